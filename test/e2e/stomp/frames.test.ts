import assert from "node:assert/strict";
import { test } from "node:test";
import { RawStompClient } from "./raw-client.js";
import { assertStompServes, useStompBroker } from "./stomp-broker.js";

const stomp = useStompBroker();

const assertOthersServed = (): Promise<void> => assertStompServes(stomp.port);

test("CONNECT negotiates the highest common version and answers RabbitMQ's CONNECTED headers", async () => {
  const { client, connected } = await RawStompClient.login(stomp.port, { "accept-version": "1.0,1.1,1.2", host: "/" });
  assert.equal(connected.headers.version, "1.2");
  assert.equal(connected.headers["heart-beat"], "0,0");
  assert.match(connected.headers.session ?? "", /^session-[A-Za-z0-9_-]{22}$/);
  assert.match(connected.headers.server ?? "", /^Warren\//);
  client.close();
});

test("STOMP frame and a CONNECT without accept-version (1.0) both log in; no login means guest", async () => {
  const one = await RawStompClient.connect(stomp.port);
  one.write("CONNECT\n\n\0");
  const connected = await one.frame();
  assert.equal(connected.command, "CONNECTED");
  assert.equal(connected.headers.version, "1.0");
  one.close();
  const two = await RawStompClient.connect(stomp.port);
  two.send("STOMP", { "accept-version": "1.1", login: "guest", passcode: "guest" });
  assert.equal((await two.frame()).headers.version, "1.1");
  two.close();
});

test("an unsupported version gets RabbitMQ's 'Version mismatch' ERROR", async () => {
  const client = await RawStompClient.connect(stomp.port);
  client.send("CONNECT", { "accept-version": "2.0", login: "guest", passcode: "guest" });
  const error = await client.frame();
  assert.equal(error.command, "ERROR");
  assert.equal(error.headers.message, "Version mismatch");
  assert.equal(error.body.toString(), "Supported versions are 1.0,1.1,1.2\n");
  client.close();
  await assertOthersServed();
});

test("a wrong passcode is refused with RabbitMQ's text and the connection is closed (STOMP 1.2: ERROR, then close)", async () => {
  const client = await RawStompClient.connect(stomp.port);
  client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: "wrong" });
  // Sent before the refusal arrives: never read, no second try on this connection.
  client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: "guest" });
  const error = await client.frame();
  assert.equal(error.headers.message, "Bad CONNECT");
  assert.equal(error.body.toString(), "Access refused for user 'guest'\n");
  await client.closedByServer();
  await assertOthersServed();
});

test("the host header selects the vhost; an unknown vhost is refused as RabbitMQ does", async () => {
  const client = await RawStompClient.connect(stomp.port);
  client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: "guest", host: "localhost" });
  const error = await client.frame();
  assert.equal(error.headers.message, "Bad CONNECT");
  assert.equal(error.body.toString(), "Virtual host 'localhost' access denied");
  client.close();
  stomp.broker.broker.core.addVhost("other");
  stomp.broker.broker.core.users.setPermissions("guest", "other", { configure: ".*", write: ".*", read: ".*" });
  const { client: inOther } = await RawStompClient.login(stomp.port, { host: "other" });
  inOther.send("SEND", { destination: "/queue/in-other", receipt: "r" }, "x");
  await inOther.frame();
  assert.equal(stomp.broker.broker.core.vhosts.get("other")?.queues.get("in-other")?.messageCount, 1);
  assert.equal(stomp.broker.broker.core.vhosts.get("/")?.queues.has("in-other"), false);
  inOther.close();
});

test("an unknown command after login gets 'Bad command' and the session goes on", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("FOO");
  const error = await client.frame();
  assert.equal(error.headers.message, "Bad command");
  assert.equal(error.body.toString(), 'Could not interpret command "FOO"\n');
  client.send("SEND", { destination: "/queue/after-bad-command", receipt: "still-here" }, "x");
  assert.equal((await client.frame()).headers["receipt-id"], "still-here");
  client.close();
});

test("a malformed frame gets an ERROR and closes that connection only", async () => {
  for (const bad of [
    "SEND\ndestination:/queue/x\nno-colon-here\n\nbody\0",
    "SEND\ndestination:/queue/x\nbad\\xescape:1\n\nbody\0",
    "SEND\ndestination:/queue/x\ncontent-length:abc\n\nbody\0",
    "SEND\ndestination:/queue/x\ncontent-length:1\n\nbody\0",
  ]) {
    const { client } = await RawStompClient.login(stomp.port);
    client.write(bad);
    const error = await client.frame();
    assert.equal(error.command, "ERROR");
    assert.equal(error.headers.message, "Invalid frame");
    await client.closedByServer();
    await assertOthersServed();
  }
});

test("headers larger than the limit are refused before they are buffered", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.write(`SEND\ndestination:/queue/x\nbig:${"a".repeat(70 * 1024)}`);
  const error = await client.frame();
  assert.equal(error.headers.message, "Invalid frame");
  assert.match(error.body.toString(), /frame headers exceed 65536 bytes/);
  await client.closedByServer();
  await assertOthersServed();
});

test("content-length bodies may hold NUL bytes; CRLF line endings are accepted", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/queue/binary", id: "b" });
  const body = Buffer.from([1, 0, 2, 0, 255]);
  client.write(
    Buffer.concat([
      Buffer.from(`SEND\r\ndestination:/queue/binary\r\ncontent-length:${body.length}\r\n\r\n`),
      body,
      Buffer.from([0]),
    ]),
  );
  const message = await client.frame();
  assert.equal(message.command, "MESSAGE");
  assert.deepEqual(message.body, body);
  client.close();
});

test("STOMP 1.2 header escaping round-trips names and values with ':', LF, CR and '\\'", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/queue/escaping", id: "e" });
  client.write("SEND\ndestination:/queue/escaping\nkey\\cname:line1\\nline2\\r\\\\end\n\nx\0");
  const message = await client.frame();
  assert.equal(message.headers["key\\cname"], "line1\\nline2\\r\\\\end");
  client.close();
});

test("a frame split into single bytes is parsed like a whole one", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/queue/split", id: "s" });
  const bytes = Buffer.from(
    "SEND\ndestination:/queue/split\ncontent-length:5\n\nhello\0SEND\ndestination:/queue/split\n\nworld\0",
  );
  for (const byte of bytes) client.write(Buffer.from([byte]));
  assert.equal((await client.frame()).body.toString(), "hello");
  assert.equal((await client.frame()).body.toString(), "world");
  client.close();
});

test("RECEIPT answers any frame carrying a receipt header, and DISCONNECT's receipt comes before the close", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/queue/receipts", id: "r", receipt: "sub-1" });
  assert.deepEqual((await client.frame()).headers, { "receipt-id": "sub-1" });
  client.send("UNSUBSCRIBE", { id: "r", receipt: "unsub-1" });
  assert.equal((await client.frame()).headers["receipt-id"], "unsub-1");
  client.send("DISCONNECT", { receipt: "bye" });
  const receipt = await client.frame();
  assert.equal(receipt.command, "RECEIPT");
  assert.equal(receipt.headers["receipt-id"], "bye");
  await client.closedByServer();
});

test("the server sends heart-beats at the interval the client asks for", async () => {
  const { client, connected } = await RawStompClient.login(stomp.port, { "heart-beat": "0,50" });
  assert.equal(connected.headers["heart-beat"], "50,0");
  const deadline = Date.now() + 5000;
  while (client.heartbeats < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(client.heartbeats >= 2, "received heart-beats");
  client.close();
});

test("a client that promised heart-beats and went silent is disconnected (dead-peer detection)", async () => {
  const { client, connected } = await RawStompClient.login(stomp.port, { "heart-beat": "50,0" });
  assert.equal(connected.headers["heart-beat"], "0,50");
  await client.closedByServer();
  await assertOthersServed();
  // Logged as a warning (not an error), as RabbitMQ does.
  assert.ok(stomp.broker.logs.some((entry) => entry.msg === "STOMP heart-beats missed, closing connection"));
});

test("NUL bytes between frames are skipped like EOLs, as RabbitMQ does (whole and split into single bytes)", async () => {
  const head = (command: string, headers: Record<string, string>): string =>
    `${command}\n${Object.entries(headers)
      .map(([k, v]) => `${k}:${v}\n`)
      .join("")}\n`;
  const bytes = Buffer.from(
    `${head("CONNECT", { "accept-version": "1.2", login: "guest", passcode: "guest" })}\0\0\n\0` +
      `${head("SUBSCRIBE", { destination: "/queue/nul-between", id: "s", receipt: "sub" })}\0\0\r\n\0` +
      `${head("SEND", { destination: "/queue/nul-between", receipt: "sent" })}x\0`,
  );
  for (const split of [false, true]) {
    const client = await RawStompClient.connect(stomp.port);
    if (split) for (const byte of bytes) client.write(Buffer.from([byte]));
    else client.write(bytes);
    assert.equal((await client.frame()).command, "CONNECTED");
    const frames = [await client.frame(), await client.frame(), await client.frame()];
    assert.deepEqual(
      frames.filter((f) => f.command === "RECEIPT").map((f) => f.headers["receipt-id"]),
      ["sub", "sent"],
    );
    assert.equal(frames.find((f) => f.command === "MESSAGE")?.body.toString(), "x");
    client.close();
  }
  await assertOthersServed();
});
