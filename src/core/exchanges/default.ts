import type { Queue } from "../queue.js";
import { Exchange, type Binding, type RouteSink } from "./exchange.js";

/** The nameless exchange: every queue is implicitly bound to it by its own name. */
export class DefaultExchange extends Exchange {
  override readonly keyOnlyRouting = true;
  constructor(
    vhost: string,
    private readonly queues: ReadonlyMap<string, Queue>,
  ) {
    super("", vhost, "direct", { durable: true, autoDelete: false, internal: false, arguments: {} });
  }

  route(routingKey: string, _properties: unknown, sink: RouteSink): void {
    const queue = this.queues.get(routingKey);
    if (queue) sink(queue);
  }

  protected index(_binding: Binding): void {
    throw new Error("the default exchange takes no explicit bindings");
  }

  protected unindex(_binding: Binding): void {}
}
