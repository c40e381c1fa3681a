import { preconditionFailed } from "../errors.js";
import type { Message } from "../message.js";
import { integerValue } from "../queue-arguments.js";
import type { VHost } from "../vhost.js";
import { DelayHeap } from "./delay-heap.js";
import { Exchange, type Binding, type ExchangeOptions, type RouteSink } from "./exchange.js";

type Create = (name: string, vhost: string, type: string, options: ExchangeOptions) => Exchange;

/**
 * The rabbitmq-delayed-message-exchange plugin's `x-delayed-message` type:
 * routes like its `x-delayed-type`, but a message with a positive `x-delay`
 * header (ms) is held and routed when due. Pending messages sit in a heap
 * with one timer for the earliest.
 */
export class DelayedExchange extends Exchange {
  private readonly inner: Exchange;
  private readonly pending = new DelayHeap<Message>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private vhostRef: VHost | null = null;

  constructor(name: string, vhost: string, type: string, options: ExchangeOptions, create: Create) {
    super(name, vhost, type, options);
    const delayedType = options.arguments["x-delayed-type"];
    if (typeof delayedType !== "string") {
      throw preconditionFailed("Invalid argument, 'x-delayed-type' must be an existing exchange type");
    }
    if (delayedType === "x-delayed-message") {
      throw preconditionFailed("Invalid argument, 'x-delayed-type' can't be of type x-delayed-message");
    }
    this.inner = create(name, vhost, delayedType, options);
    this.publishHook = (vhostRef, message) => this.hold(vhostRef, message);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  route(routingKey: string, headers: Message["properties"]["headers"], sink: RouteSink): void {
    this.inner.route(routingKey, headers, sink);
  }

  protected index(binding: Binding): void {
    this.inner.addBinding(binding);
  }

  protected unindex(binding: Binding): void {
    this.inner.removeBinding(binding.id);
  }

  /** True when the message is held for later; a missing, zero or negative x-delay routes now (as the plugin). */
  private hold(vhost: VHost, message: Message): boolean {
    const raw = message.properties.headers?.["x-delay"];
    const delay = raw === undefined ? null : integerValue(raw);
    if (delay === null || delay <= 0) return false;
    this.vhostRef = vhost;
    const due = Date.now() + delay;
    this.pending.push(due, message);
    if (this.timer === null || due < this.timerDue) this.arm(due);
    return true;
  }

  private arm(due: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.release(), Math.max(0, Math.min(due - Date.now(), 2 ** 31 - 1)));
    this.timer.unref();
  }

  private release(): void {
    this.timer = null;
    const vhost = this.vhostRef;
    if (this.deleted || vhost === null) return;
    const now = Date.now();
    for (;;) {
      const due = this.pending.peekDue();
      if (due === undefined) return;
      if (due > now) return this.arm(due);
      const message = this.pending.pop() as Message;
      for (const queue of vhost.route(this, message.routingKey, message.properties.headers)) queue.enqueue(message);
    }
  }

  /** Stops the timer; pending messages go with the exchange. */
  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
