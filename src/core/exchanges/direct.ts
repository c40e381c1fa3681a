import { Exchange, type Binding, type Destination, type RouteSink } from "./exchange.js";

/** Exact routing-key match. */
export class DirectExchange extends Exchange {
  override readonly keyOnlyRouting = true;
  private readonly byKey = new Map<string, Destination[]>();

  route(routingKey: string, _properties: unknown, sink: RouteSink): void {
    const destinations = this.byKey.get(routingKey);
    if (!destinations) return;
    for (let i = 0; i < destinations.length; i++) sink(destinations[i] as Destination);
  }

  protected index(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (list) list.push(binding.destination);
    else this.byKey.set(binding.routingKey, [binding.destination]);
  }

  protected unindex(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (!list) return;
    const at = list.indexOf(binding.destination);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.byKey.delete(binding.routingKey);
  }
}
