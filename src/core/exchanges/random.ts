import { Exchange, type Binding, type Destination, type RouteSink } from "./exchange.js";

/** The rabbitmq-random-exchange plugin's `x-random`: one bound destination picked at random, routing key ignored. */
export class RandomExchange extends Exchange {
  private destinations: Destination[] = [];

  route(_routingKey: string, _properties: unknown, sink: RouteSink): void {
    const count = this.destinations.length;
    if (count > 0) sink(this.destinations[Math.floor(Math.random() * count)] as Destination);
  }

  protected index(binding: Binding): void {
    this.destinations.push(binding.destination);
  }

  protected unindex(binding: Binding): void {
    const at = this.destinations.indexOf(binding.destination);
    if (at >= 0) this.destinations.splice(at, 1);
  }
}
