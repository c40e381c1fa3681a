/**
 * The TLS side of the composition root: AMQPS, MQTTS and STOMP over TLS on
 * RabbitMQ's ports, each the protocol's own connection on a TLS socket, all
 * with the one certificate of `tls`.
 */
import type { Socket } from "node:net";
import type { PortSetting } from "./config/defaults.js";
import type { Logger } from "./log.js";
import { TcpListener } from "./transport/tcp.js";
import type { TlsContext } from "./transport/tls-context.js";

export type SecureProtocol = "amqps" | "mqtts" | "stomps";

interface SecureListenerSpec {
  port: PortSetting;
  /** A function property: it is passed on detached (unbound) to the TCP listener. */
  onSocket: (socket: Socket) => void;
}

const NAMES: Record<SecureProtocol, { name: string; flag: string; envVar: string }> = {
  amqps: { name: "AMQPS", flag: "--amqps-port", envVar: "WARREN_AMQPS_PORT" },
  mqtts: { name: "MQTTS", flag: "--mqtts-port", envVar: "WARREN_MQTTS_PORT" },
  stomps: { name: "STOMPS", flag: "--stomps-port", envVar: "WARREN_STOMPS_PORT" },
};

/**
 * Opens each listener not "off", pushing it onto `opened` as soon as it
 * listens (so the caller's cleanup closes it if a later one fails), and
 * returns the ports bound.
 */
export async function openTlsListeners(
  tls: TlsContext,
  host: string,
  logger: Logger,
  specs: Record<SecureProtocol, SecureListenerSpec>,
  opened: TcpListener[],
): Promise<Partial<Record<SecureProtocol, number>>> {
  const ports: Partial<Record<SecureProtocol, number>> = {};
  for (const protocol of Object.keys(NAMES) as SecureProtocol[]) {
    const spec = specs[protocol];
    if (spec.port === "off") continue;
    const { name, flag, envVar } = NAMES[protocol];
    const listener = await TcpListener.open(
      { protocol: name, host, port: spec.port, flag, envVar },
      spec.onSocket,
      tls,
    );
    opened.push(listener);
    ports[protocol] = listener.port;
    logger.info({ protocol, host, port: listener.port }, `${name} listener started`);
  }
  return ports;
}
