import type { Socket } from "node:net";
import type { PortSetting } from "../config/defaults.js";
import type { Logger } from "../log.js";
import { HttpListener } from "./http.js";
import { TcpListener } from "./tcp.js";

/** One listener of a protocol: its name in messages ("MQTT", "Web-STOMP") and the setting that chose its port. */
export interface ProtocolPortSpec {
  name: string;
  port: PortSetting;
  /** The flag and environment variable that set this port, named in errors. */
  flag: string;
  envVar: string;
}

export interface TcpAndWebListeners {
  tcp: TcpListener | null;
  web: HttpListener | null;
}

/**
 * Opens a protocol's TCP port and its WebSocket (HTTP) port, each unless
 * "off", logging "<name> listener started". If either fails, what was
 * already opened is closed again before the error propagates, so a failed
 * start leaves no port bound.
 */
export async function openTcpAndWebListeners(
  host: string,
  logger: Logger,
  tcpSpec: ProtocolPortSpec & { onSocket(socket: Socket): void },
  webSpec: ProtocolPortSpec & { setup(listener: HttpListener): void },
): Promise<TcpAndWebListeners> {
  const opened: TcpAndWebListeners = { tcp: null, web: null };
  try {
    if (tcpSpec.port !== "off") {
      const tcp = await TcpListener.open(
        { protocol: tcpSpec.name, host, port: tcpSpec.port, flag: tcpSpec.flag, envVar: tcpSpec.envVar },
        (socket) => tcpSpec.onSocket(socket),
      );
      opened.tcp = tcp;
      logger.info({ protocol: tcpSpec.name.toLowerCase(), host, port: tcp.port }, `${tcpSpec.name} listener started`);
    }
    if (webSpec.port !== "off") {
      const web = await HttpListener.open(
        { protocol: webSpec.name, host, port: webSpec.port, flag: webSpec.flag, envVar: webSpec.envVar },
        { logger },
      );
      opened.web = web;
      webSpec.setup(web);
      logger.info({ protocol: webSpec.name.toLowerCase(), host, port: web.port }, `${webSpec.name} listener started`);
    }
  } catch (error) {
    await opened.tcp?.close();
    await opened.web?.close();
    throw error;
  }
  return opened;
}

/** Stops accepting TCP connections and waits (bounded) for the open ones to go, destroying what is left. */
export async function closeTcpDraining(tcp: TcpListener | null, ms = 1000): Promise<void> {
  if (!tcp) return;
  const closed = tcp.close();
  await tcp.drain(ms);
  await closed;
}
