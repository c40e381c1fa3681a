/**
 * The node's one connection to NATS, shared by the JetStream store,
 * membership and (cluster-routing) leases and forwarding. It reconnects for
 * ever: a node that lost NATS stays up, blocks publishers and resumes when a
 * server is back (issue 10, "Losing NATS").
 */
import { hostname } from "node:os";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../log.js";
import { ErrorCodes, WarrenError } from "../errors.js";
import { JETSTREAM_TIMEOUT_MS, type ClusterOptions } from "./options.js";

export const defaultNodeName = (): string => `warren@${hostname()}`;

export type ConnectionListener = (connected: boolean) => void;

export class ClusterConnection {
  readonly nodeName: string;
  readonly replicas: number;
  private readonly listeners = new Set<ConnectionListener>();
  private up = true;
  private readonly statusLoop: Promise<void>;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    options: ClusterOptions,
    private readonly logger: Logger,
  ) {
    this.nodeName = options.nodeName ?? defaultNodeName();
    this.replicas = options.replicas ?? 3;
    this.statusLoop = this.watchStatus();
  }

  static async open(options: ClusterOptions, logger: Logger): Promise<ClusterConnection> {
    const log = logger.child({ module: "cluster" });
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: [...options.nats],
        name: options.nodeName ?? defaultNodeName(),
        // Never give up: a node without NATS blocks publishers and waits (issue 10).
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // Otherwise every request and publish builds an Error for its stack, in case it times out:
        // ~80 ms of a node's CPU per 16 s of confirmed publishing (session 5 profile).
        noAsyncTraces: true,
        ...(options.user === undefined ? {} : { user: options.user }),
        ...(options.password === undefined ? {} : { pass: options.password }),
        ...(options.token === undefined ? {} : { token: options.token }),
        ...(options.tlsCa === undefined ? {} : { tls: { caFile: options.tlsCa } }),
      });
    } catch (error) {
      throw new WarrenError(
        ErrorCodes.CLUSTER,
        `cannot connect to NATS at ${options.nats.join(",")}: ${(error as Error).message}`,
      );
    }
    const js = jetstream(nc, { timeout: JETSTREAM_TIMEOUT_MS });
    const jsm = await jetstreamManager(nc, { timeout: JETSTREAM_TIMEOUT_MS });
    log.info({ servers: options.nats, node: options.nodeName ?? defaultNodeName() }, "connected to NATS");
    return new ClusterConnection(nc, js, jsm, options, log);
  }

  /** True while the client holds a connection to a NATS server. */
  get connected(): boolean {
    return this.up;
  }

  /** Told false when the connection drops and true once it is back. */
  onConnectionChange(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect" && this.up) {
        this.up = false;
        this.logger.warn(
          { server: status.server },
          "lost the connection to NATS; publishers are blocked until it is back",
        );
        for (const listener of this.listeners) listener(false);
      } else if (status.type === "reconnect" && !this.up) {
        this.up = true;
        this.logger.info({ server: status.server }, "connection to NATS back");
        for (const listener of this.listeners) listener(true);
      }
    }
  }

  async close(): Promise<void> {
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
    await this.statusLoop;
  }
}
