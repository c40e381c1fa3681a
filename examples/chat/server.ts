/**
 * A chat room over Warren: this script starts an embedded broker with
 * Web-STOMP, and serves a page where people pick a nickname and a room and
 * talk through STOMP over WebSocket. A room is the topic /topic/room.<id>
 * (amq.topic, routing key room.<id>), so any AMQP, MQTT or STOMP client can
 * join it too (see post.ts).
 *
 *   node dist/examples/chat/server.js      # CHAT_PORT=8080 WEB_STOMP_PORT=15674 AMQP_PORT=5672
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker, type RunningBroker } from "../../src/index.js";

export interface ChatServerOptions {
  host?: string;
  /** The page's HTTP port; 0 = ephemeral. */
  port?: number;
  webStompPort?: number;
  amqpPort?: number;
}

export interface ChatServer {
  /** The page, e.g. http://127.0.0.1:8080/ */
  url: string;
  broker: RunningBroker;
  stop(): Promise<void>;
}

// From dist/examples/chat/ (compiled) or examples/chat/ (source), the page lives in examples/chat/public.
const here = dirname(fileURLToPath(import.meta.url));
const PUBLIC_DIR = here.includes(`${join("dist", "examples")}`)
  ? join(here, "..", "..", "..", "examples", "chat", "public")
  : join(here, "public");
// The browser bundle of @stomp/stompjs, next to the CommonJS entry point its package exports.
const STOMP_BUNDLE = join(dirname(createRequire(import.meta.url).resolve("@stomp/stompjs")), "stomp.umd.min.js");

const FILES: Readonly<Record<string, { path: string; type: string }>> = {
  "/": { path: join(PUBLIC_DIR, "index.html"), type: "text/html; charset=utf-8" },
  "/chat.js": { path: join(PUBLIC_DIR, "chat.js"), type: "text/javascript; charset=utf-8" },
  "/stomp.umd.min.js": { path: STOMP_BUNDLE, type: "text/javascript; charset=utf-8" },
};

export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const host = options.host ?? "127.0.0.1";
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  // Only this page may open Web-STOMP sessions from a browser (the broker answers other origins with 403).
  const pageOrigins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://${host}:${port}`];
  let broker: RunningBroker;
  try {
    broker = await startBroker({
      host,
      ports: {
        amqp: options.amqpPort ?? 5672,
        webStomp: options.webStompPort ?? 15674,
        stomp: "off",
        mqtt: "off",
        webMqtt: "off",
        http: "off",
      },
      stomp: { allowedOrigins: pageOrigins },
    });
  } catch (error) {
    server.close();
    throw error;
  }
  server.on("request", (request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (path === "/config.json") {
      // The page connects to the Web-STOMP port on whatever host name it was loaded from.
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ webStompPort: broker.ports.webStomp }));
      return;
    }
    const file = FILES[path];
    if (request.method !== "GET" || !file) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    readFile(file.path).then(
      (body) => response.writeHead(200, { "content-type": file.type, "cache-control": "no-cache" }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    broker,
    async stop() {
      await closeServer(server);
      await broker.stop();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  return value === undefined ? fallback : Number(value);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const chat = await startChatServer({
    port: portFromEnv("CHAT_PORT", 8080),
    webStompPort: portFromEnv("WEB_STOMP_PORT", 15674),
    amqpPort: portFromEnv("AMQP_PORT", 5672),
  });
  console.log(`chat: open ${chat.url} (Web-STOMP on ${chat.broker.urls.webStomp}, AMQP on ${chat.broker.urls.amqp})`);
  const shutdown = (): void => void chat.stop().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
