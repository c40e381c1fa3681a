import { Exchange, type Binding, type Destination, type RouteSink } from "./exchange.js";
import { TopicTrie } from "./topic-trie.js";

export class TopicExchange extends Exchange {
  override readonly keyOnlyRouting = true;
  private readonly trie = new TopicTrie<Destination>();

  route(routingKey: string, _properties: unknown, sink: RouteSink): void {
    const destinations = this.trie.match(routingKey);
    for (let i = 0; i < destinations.length; i++) sink(destinations[i] as Destination);
  }

  protected index(binding: Binding): void {
    this.trie.add(binding.routingKey, binding.destination);
  }

  protected unindex(binding: Binding): void {
    this.trie.remove(binding.routingKey, binding.destination);
  }
}
