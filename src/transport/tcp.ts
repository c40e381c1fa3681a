import { createServer, type Server, type Socket } from "node:net";
import { portInUseError, WarrenError, ErrorCodes } from "../errors.js";
import type { TlsContext } from "./tls-context.js";

export interface ListenerSpec {
  /** For messages: "AMQP", "MQTT", ... */
  protocol: string;
  host: string;
  port: number;
  /** The flag and environment variable that set this port, named in errors. */
  flag: string;
  envVar: string;
}

/**
 * A TCP listener that remembers its sockets so that stop() can end them.
 * With a TLS context it is a TLS listener: the protocol gets each socket
 * once its handshake is done (a TLSSocket is a net.Socket, so the
 * protocol's code is the same), and the certificate follows reloads.
 */
export class TcpListener {
  readonly sockets = new Set<Socket>();
  private constructor(
    readonly server: Server,
    readonly port: number,
    /** Stops following certificate reloads (TLS only). */
    private readonly untrack: () => void,
  ) {}

  static async open(
    spec: ListenerSpec,
    onSocket: (socket: Socket) => void,
    tls: TlsContext | null = null,
  ): Promise<TcpListener> {
    const secure = tls ? tls.createTlsServer({ noDelay: true }) : null;
    const server = secure ?? createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE") {
          reject(portInUseError(spec.protocol, spec.port, spec.host, spec.flag, spec.envVar, error));
        } else {
          reject(
            new WarrenError(
              ErrorCodes.LISTEN_FAILED,
              `cannot listen for ${spec.protocol} on ${spec.host} port ${spec.port}: ${error.message}`,
              { cause: error },
            ),
          );
        }
      });
      // "::" is dual-stack on Linux: IPv6 and IPv4 on one socket, as RabbitMQ listens.
      server.listen({ host: spec.host, port: spec.port, ipv6Only: false }, resolve);
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : spec.port;
    const untrack = secure && tls ? tls.attach(secure, onSocket) : () => undefined;
    const listener = new TcpListener(server, port, untrack);
    // The raw sockets are tracked, so that drain() also ends handshakes still under way.
    server.on("connection", (socket: Socket) => {
      listener.sockets.add(socket);
      socket.once("close", () => listener.sockets.delete(socket));
      if (!tls) onSocket(socket);
    });
    return listener;
  }

  /** Stops accepting; existing sockets are the protocol's to close. */
  async close(): Promise<void> {
    this.untrack();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Waits up to `ms` for sockets to close by themselves, then destroys the rest. */
  async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const socket of this.sockets) socket.destroy();
  }
}
