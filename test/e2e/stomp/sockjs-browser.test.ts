import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { skipWithout } from "../../helpers/binaries.js";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { TestBroker } from "../../helpers/broker.js";
import type { Client as StompClient, IFrame, IMessage } from "@stomp/stompjs";
import type SockJS from "sockjs-client";

const CHROMIUM = "/usr/bin/chromium";
const skip = skipWithout(CHROMIUM, "chromium", "the browser SockJS test needs it");

const require = createRequire(import.meta.url);
const SCRIPTS = {
  "/sockjs.min.js": join(dirname(require.resolve("sockjs-client")), "..", "dist", "sockjs.min.js"),
  "/stomp.umd.min.js": join(dirname(require.resolve("@stomp/stompjs")), "stomp.umd.min.js"),
};

let broker: TestBroker;
let page: Server;
let pageUrl: string;
let browser: Browser | null = null;

before(async () => {
  if (skip) return;
  page = createServer((request, response) => {
    const script = SCRIPTS[request.url as keyof typeof SCRIPTS];
    if (script) response.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(script));
    else
      response
        .writeHead(200, { "content-type": "text/html" })
        .end('<!doctype html><script src="/sockjs.min.js"></script><script src="/stomp.umd.min.js"></script>');
  });
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  const address = page.address();
  pageUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  // The page is served from another origin than the broker: every transport is cross-origin, and that origin is the only one allowed.
  broker = await TestBroker.start({
    ports: { stomp: "off", webStomp: 0, http: "off", mqtt: "off", webMqtt: "off" },
    stomp: { allowedOrigins: [pageUrl.slice(0, -1)] },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
after(async () => {
  if (skip) return;
  await browser?.close();
  page.closeAllConnections();
  await new Promise((resolve) => page.close(resolve));
  await broker.stop();
});

for (const transport of ["websocket", "xhr-streaming", "xhr-polling", "eventsource"]) {
  test(`a browser's sockjs-client over ${transport}, cross-origin, carries STOMP both ways`, { skip }, async () => {
    const tab = await browser!.newPage();
    try {
      await tab.goto(pageUrl);
      const endpoint = `http://127.0.0.1:${broker.broker.ports.webStomp}/stomp`;
      // Runs in the page: stompjs over SockJS, subscribe, then send to itself once the subscription is confirmed.
      const result = await tab.evaluate(
        ({ endpoint, transport }) =>
          new Promise<{ body: string; used: string }>((resolve, reject) => {
            // The page loaded the UMD bundles of @stomp/stompjs and sockjs-client onto globalThis.
            const g = globalThis as unknown as { StompJs: { Client: typeof StompClient }; SockJS: typeof SockJS };
            let socket: WebSocket | null = null;
            const client = new g.StompJs.Client({
              webSocketFactory: () => (socket = new g.SockJS(endpoint, null, { transports: [transport] })),
              connectHeaders: { login: "guest", passcode: "guest" },
              reconnectDelay: 0,
            });
            client.onConnect = () => {
              client.subscribe(
                `/topic/browser.${transport}`,
                (message: IMessage) => {
                  resolve({
                    body: message.body,
                    used: (socket as unknown as { transport: string } | null)?.transport ?? "",
                  });
                  void client.deactivate();
                },
                { receipt: "sub" },
              );
              client.watchForReceipt("sub", () =>
                client.publish({ destination: `/topic/browser.${transport}`, body: `hello über ${transport}` }),
              );
            };
            client.onStompError = (frame: IFrame) => reject(new Error(frame.headers["message"]));
            client.onWebSocketClose = (event: { code: number; reason: string }) =>
              reject(new Error(`closed: ${event.code} ${event.reason}`));
            client.activate();
          }),
        { endpoint, transport },
      );
      assert.deepEqual(result, { body: `hello über ${transport}`, used: transport });
    } finally {
      await tab.close();
    }
  });
}
