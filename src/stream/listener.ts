import type { Socket } from "node:net";
import { TcpListener } from "../transport/tcp.js";
import { StreamConnection, type StreamContext } from "./connection.js";

/** RabbitMQ's stream port (5552 by default; `--stream-port`, "off" to close it). */
export async function openStreamListener(context: StreamContext, host: string, port: number): Promise<TcpListener> {
  const listener = await TcpListener.open(
    { protocol: "stream", host, port, flag: "--stream-port", envVar: "WARREN_STREAM_PORT" },
    (socket: Socket) => new StreamConnection(socket, context),
  );
  context.advertisedPort = listener.port;
  return listener;
}
