import { Exchange, type Binding, type Destination, type RouteSink } from "./exchange.js";

/** Every bound destination, whatever the routing key. */
export class FanoutExchange extends Exchange {
  override readonly keyOnlyRouting = true;
  private destinations: Destination[] = [];

  route(_routingKey: string, _properties: unknown, sink: RouteSink): void {
    const destinations = this.destinations;
    for (let i = 0; i < destinations.length; i++) sink(destinations[i] as Destination);
  }

  protected index(binding: Binding): void {
    this.destinations.push(binding.destination);
  }

  protected unindex(binding: Binding): void {
    const at = this.destinations.indexOf(binding.destination);
    if (at >= 0) this.destinations.splice(at, 1);
  }
}
