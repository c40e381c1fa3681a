import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../src/log.js";
import { OnFirstConnection } from "../../src/transport/on-first-connection.js";
import { waitFor } from "../helpers/broker.js";

/**
 * The loader a listener uses to load its protocol's connection code at the
 * first client (issue 15 §1), over real sockets: what waits while it loads,
 * and what a failed load does.
 */

/** Stands in for a protocol's connection module: answers each line with "served <line>". */
const echoModule = {
  serve(socket: Socket): void {
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => socket.write(`served ${text}`));
  },
};
type EchoModule = typeof echoModule;

/** A controllable load: resolves or rejects when the test says, counting calls. */
function controlledLoad(): {
  load: () => Promise<EchoModule>;
  calls: () => number;
  resolve: () => void;
  reject: (error: Error) => void;
} {
  let calls = 0;
  let settle: { resolve: (m: EchoModule) => void; reject: (e: Error) => void } | null = null;
  return {
    load: () => {
      calls++;
      return new Promise<EchoModule>((resolve, reject) => (settle = { resolve, reject }));
    },
    calls: () => calls,
    resolve: () => settle?.resolve(echoModule),
    reject: (error) => settle?.reject(error),
  };
}

function capturingLogger(): { logger: ReturnType<typeof createLogger>; errors: Array<Record<string, unknown>> } {
  const errors: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        const entry = JSON.parse(line) as Record<string, unknown> & { level: number };
        if (entry.level >= 50) errors.push(entry);
      }
      callback();
    },
  });
  return { logger: createLogger({ level: "info", destination }), errors };
}

/** A TCP server whose sockets go through `loader`; `accepted` counts the sockets it took. */
async function serverWith(
  loader: OnFirstConnection<EchoModule>,
  logger: ReturnType<typeof createLogger>,
): Promise<{ server: Server; port: number; accepted: () => number; served: Socket[] }> {
  let accepted = 0;
  const served: Socket[] = [];
  const server = createServer((socket) => {
    accepted++;
    loader.accept(socket, logger, (module) => {
      served.push(socket);
      module.serve(socket);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return { server, port: address.port, accepted: () => accepted, served };
}

async function client(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const socket = connect({ host: "127.0.0.1", port });
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (text += chunk));
  socket.on("error", () => undefined);
  const closed = once(socket, "close");
  await once(socket, "connect");
  return { socket, received: () => text, closed };
}

test("clients that connect while the module loads are all served, with the bytes they sent meanwhile, and it loads once", async () => {
  const load = controlledLoad();
  const { logger, errors } = capturingLogger();
  const loader = new OnFirstConnection("TEST", load.load);
  const { server, port, accepted, served } = await serverWith(loader, logger);
  try {
    const clients = await Promise.all([1, 2, 3, 4, 5].map(() => client(port)));
    clients.forEach((c, i) => c.socket.write(`hello ${i}\n`));
    await waitFor(() => accepted() === 5);
    assert.equal(served.length, 0, "nothing is served before the module is loaded");
    load.resolve();
    for (const [i, c] of clients.entries())
      assert.equal(await waitFor(() => c.received() || null), `served hello ${i}\n`);
    assert.equal(load.calls(), 1);

    // Loaded: the next client is served at once, without loading again.
    const later = await client(port);
    later.socket.write("again\n");
    assert.equal(await waitFor(() => later.received() || null), "served again\n");
    assert.equal(load.calls(), 1);
    for (const c of [...clients, later]) c.socket.destroy();
    assert.deepEqual(errors, []);
  } finally {
    server.close();
  }
});

test("a module that fails to load closes the waiting clients and logs why; the next client loads it again and is served", async () => {
  const load = controlledLoad();
  const { logger, errors } = capturingLogger();
  const loader = new OnFirstConnection("TEST", load.load);
  const { server, port, accepted } = await serverWith(loader, logger);
  try {
    const first = await Promise.all([client(port), client(port)]);
    await waitFor(() => accepted() === 2);
    load.reject(new Error("Cannot find module 'mqtt-packet'"));
    await Promise.all(first.map((c) => c.closed));
    assert.deepEqual(
      first.map((c) => c.received()),
      ["", ""],
    );
    assert.equal(errors.length, 2);
    assert.equal(
      errors[0]?.["msg"],
      "cannot load the TEST adapter (Cannot find module 'mqtt-packet'); connection closed",
    );
    assert.equal((errors[0]?.["err"] as { message?: string } | undefined)?.message, "Cannot find module 'mqtt-packet'");

    const next = await client(port);
    next.socket.write("retry\n");
    await waitFor(() => load.calls() === 2);
    load.resolve();
    assert.equal(await waitFor(() => next.received() || null), "served retry\n");
    next.socket.destroy();
  } finally {
    server.close();
  }
});

test("a client that leaves while the module loads is not served, and the others are", async () => {
  const load = controlledLoad();
  const { logger, errors } = capturingLogger();
  const loader = new OnFirstConnection("TEST", load.load);
  let serverSockets: Socket[] = [];
  const { server, port, served } = await serverWith(loader, logger);
  server.on("connection", (socket: Socket) => serverSockets.push(socket));
  try {
    const leaving = await client(port);
    const staying = await client(port);
    await waitFor(() => serverSockets.length === 2);
    const leftOnServer = serverSockets[0] as Socket;
    // (events.once would reject on the reset's 'error', which is what the loader must swallow.)
    const gone = new Promise((resolve) => leftOnServer.once("close", resolve));
    // A reset, as a client that crashes: an 'error' on the waiting socket must not throw.
    leaving.socket.resetAndDestroy();
    await gone;
    staying.socket.write("still here\n");
    load.resolve();
    assert.equal(await waitFor(() => staying.received() || null), "served still here\n");
    assert.equal(served.length, 1);
    assert.notEqual(served[0], leftOnServer);
    staying.socket.destroy();
    assert.deepEqual(errors, []);
  } finally {
    serverSockets = [];
    server.close();
  }
});
