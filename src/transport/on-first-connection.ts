/**
 * A protocol adapter's connection code, loaded when the first client of that
 * protocol connects rather than when its listener opens (issue 15 §1): an
 * embedded broker opens every listener, and a test suite mostly speaks one
 * protocol. MQTT's connection module brings mqtt-packet (with bl and debug),
 * ~12 ms of every cold start when it was evaluated at listen.
 *
 * A socket that arrives while the module loads waits: its bytes stay in its
 * stream (nothing reads it before the connection attaches), and an error on
 * it meanwhile closes only it. Loaded once per process: the next connections
 * are served synchronously, as before.
 */
import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";

export class OnFirstConnection<M> {
  private module: M | null = null;
  private loading: Promise<M> | null = null;

  constructor(
    /** For the log: "MQTT". */
    private readonly protocol: string,
    private readonly load: () => Promise<M>,
  ) {}

  /**
   * Hands the socket to `serve` with the module, now when it is loaded,
   * else once it is. When loading fails the socket is destroyed and the
   * error logged with its cause (a client sees its connection closed); the
   * next connection tries again.
   */
  accept(socket: Duplex, logger: Logger, serve: (module: M) => void): void {
    if (this.module !== null) {
      serve(this.module);
      return;
    }
    // Without a listener an 'error' on the waiting socket would be thrown by the emitter.
    const ignore = (): void => undefined;
    socket.on("error", ignore);
    (this.loading ??= this.load()).then(
      (module) => {
        this.module = module;
        socket.off("error", ignore);
        // Closed while waiting (the client left, or the broker stopped): nothing to serve.
        if (!socket.destroyed) serve(module);
      },
      (error: unknown) => {
        this.loading = null;
        socket.off("error", ignore);
        logger.error(
          { err: error, protocol: this.protocol.toLowerCase() },
          `cannot load the ${this.protocol} adapter (${error instanceof Error ? error.message : String(error)}); connection closed`,
        );
        socket.destroy();
      },
    );
  }
}
