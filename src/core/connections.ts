/** What the broker knows of every client connection, whatever its protocol. */
export interface ClientConnection {
  readonly id: number;
  readonly protocol: "amqp" | "mqtt" | "stomp";
  readonly user: string;
  readonly vhost: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt: number;
  /** Server-initiated close (management, shutdown): AMQP answers 320 CONNECTION_FORCED. */
  close(reason: string): void;
  /** Publishing is paused while a resource alarm is set (connection.blocked in AMQP). */
  setBlocked(reason: string | null): void;
}

export class ConnectionRegistry {
  private readonly byId = new Map<number, ClientConnection>();
  private nextId = 1;

  allocateId(): number {
    return this.nextId++;
  }

  add(connection: ClientConnection): void {
    this.byId.set(connection.id, connection);
  }

  remove(connection: ClientConnection): void {
    this.byId.delete(connection.id);
  }

  get(id: number): ClientConnection | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  [Symbol.iterator](): IterableIterator<ClientConnection> {
    return this.byId.values();
  }
}
