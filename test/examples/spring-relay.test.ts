import assert from "node:assert/strict";
import { after, test } from "node:test";
import { freePort } from "../../examples/free-port.js";
import { STOMP_BROKER_OPTIONS, stompPortOf } from "../e2e/stomp/stomp-broker.js";
import { useBroker } from "../helpers/amqp-fixture.js";
import { killAllChildren, killed, startChildBroker, stoppedCleanly } from "../helpers/child-broker.js";
import { useDataDirs } from "../helpers/data-dirs.js";
import { waitFor } from "../helpers/broker.js";
import { RelaySession, type Headers } from "./stomp-relay-session.js";

/**
 * Warren as the broker of Spring's STOMP broker relay
 * (enableStompBrokerRelay("/topic", "/queue", "/exchange", "/amq/queue", "/temp-queue")):
 * the frames are those StompBrokerRelayMessageHandler sends (see
 * stomp-relay-session.ts); the answers are those RabbitMQ 3.10's STOMP
 * plugin gives to the same frames (checked side by side on port 61623).
 */
/** The relay's two logins as the guide sets them up (setSystemLogin / setClientLogin). */
const SYSTEM: Login = ["spring-system", "system-secret"];
const CLIENT: Login = ["spring-client", "client-secret"];
type Login = readonly [string, string];
const GUEST: Login = ["guest", "guest"];
const fixture = useBroker({
  ...STOMP_BROKER_OPTIONS,
  users: [SYSTEM, CLIENT].map(([name, password]) => ({ name, password })),
});
const stomp = {
  get port() {
    return stompPortOf(fixture.broker);
  },
  get broker() {
    return fixture.broker;
  },
};
const dirs = useDataDirs("spring-relay");
after(() => killAllChildren());

/** Spring's system session CONNECT: heart-beats 10000,10000 by default, host from setVirtualHost("/"). */
const systemConnect = (heartbeat = "10000,10000", [login, passcode]: Login = SYSTEM, host = "/"): Headers => [
  ["accept-version", "1.1,1.2"],
  ["login", login],
  ["passcode", passcode],
  ["heart-beat", heartbeat],
  ["host", host],
];

/** A browser's CONNECT (stomp.js) as the relay forwards it: the browser's headers, then clientLogin/clientPasscode and host. */
const userConnect = (heartbeat: string, [login, passcode]: Login = CLIENT): Headers => [
  ["accept-version", "1.2,1.1,1.0"],
  ["heart-beat", heartbeat],
  ["login", login],
  ["passcode", passcode],
  ["host", "/"],
];

async function subscribed(session: RelaySession, id: string, destination: string): Promise<void> {
  session.send("SUBSCRIBE", [
    ["id", id],
    ["destination", destination],
    ["receipt", `subscribed-${id}`],
  ]);
  assert.deepEqual(await session.frame(), {
    command: "RECEIPT",
    headers: { "receipt-id": `subscribed-${id}` },
    body: Buffer.alloc(0),
  });
}

test("the relay's system session and two user sessions: a chat room on /topic/room.1, /queue, /exchange and /amq/queue, a private reply via /temp-queue", async () => {
  const system = new RelaySession(stomp.port, systemConnect());
  const alice = new RelaySession(stomp.port, userConnect("10000,10000"));
  const bob = new RelaySession(stomp.port, userConnect("10000,10000"));
  try {
    const connected = await system.connect();
    assert.equal(connected.headers.version, "1.2");
    assert.equal(
      connected.headers["heart-beat"],
      "10000,10000",
      "RabbitMQ answers the relay's 10000,10000 with 10000,10000",
    );
    assert.match(connected.headers.server ?? "", /^Warren\//);
    assert.match(connected.headers.session ?? "", /^session-/);
    await alice.connect();
    await bob.connect();
    await subscribed(alice, "sub-0", "/topic/room.1");
    await subscribed(bob, "sub-0", "/topic/room.1");

    // The application (SimpMessagingTemplate.convertAndSend) posts through the system session.
    system.send(
      "SEND",
      [
        ["destination", "/topic/room.1"],
        ["content-type", "application/json"],
      ],
      '{"from":"server","text":"welcome"}',
    );
    for (const user of [alice, bob]) {
      const message = await user.frame();
      assert.equal(message.command, "MESSAGE");
      assert.equal(message.headers.destination, "/topic/room.1");
      assert.equal(message.headers.subscription, "sub-0");
      assert.equal(message.headers["content-type"], "application/json");
      assert.equal(message.body.toString(), '{"from":"server","text":"welcome"}');
    }

    // Alice asks in the room with a private reply address; Bob answers her alone.
    alice.send(
      "SEND",
      [
        ["destination", "/topic/room.1"],
        ["reply-to", "/temp-queue/private"],
        ["content-type", "text/plain"],
      ],
      "who is there?",
    );
    const asked = await bob.frame();
    assert.equal(asked.body.toString(), "who is there?");
    const replyTo = asked.headers["reply-to"] ?? "";
    assert.match(replyTo, /^\/reply-queue\/amq\.gen-[\w-]{22}$/, "RabbitMQ's form of a temp-queue reply address");
    assert.equal((await alice.frame()).body.toString(), "who is there?", "alice is in the room too");
    bob.send("SEND", [["destination", replyTo]], "bob is");
    const reply = await alice.frame();
    assert.equal(reply.command, "MESSAGE");
    assert.equal(reply.headers.subscription, "/temp-queue/private");
    assert.equal(reply.headers.destination, `/queue/${replyTo.slice("/reply-queue/".length)}`);
    assert.equal(reply.body.toString(), "bob is");

    // The other destination kinds the relay forwards.
    await subscribed(bob, "sub-1", "/queue/bob-inbox");
    await subscribed(bob, "sub-2", "/exchange/amq.direct/alerts");
    await subscribed(alice, "sub-1", "/amq/queue/bob-inbox");
    system.send("SEND", [["destination", "/exchange/amq.direct/alerts"]], "alert");
    assert.deepEqual([(await bob.frame()).headers.subscription, "alert"], ["sub-2", "alert"]);
    system.send(
      "SEND",
      [
        ["destination", "/queue/bob-inbox"],
        ["persistent", "true"],
      ],
      "one",
    );
    system.send(
      "SEND",
      [
        ["destination", "/queue/bob-inbox"],
        ["persistent", "true"],
      ],
      "two",
    );
    // Two consumers on bob-inbox (/queue and /amq/queue name the same queue): round robin, one each;
    // RabbitMQ names the queue /queue/bob-inbox in both MESSAGE frames.
    const inbox = [await bob.frame(), await alice.frame()].map((frame) => [
      frame.headers.subscription,
      frame.headers.destination,
      frame.body.toString(),
    ]);
    assert.deepEqual(inbox, [
      ["sub-1", "/queue/bob-inbox", "one"],
      ["sub-1", "/queue/bob-inbox", "two"],
    ]);

    // The private reply reached nobody else: the room's next message is the next thing Bob gets.
    system.send("SEND", [["destination", "/topic/room.1"]], "last");
    assert.equal((await bob.frame()).body.toString(), "last");
    assert.equal((await alice.frame()).body.toString(), "last");

    alice.send("DISCONNECT", [["receipt", "bye"]]);
    assert.deepEqual((await alice.frame()).headers, { "receipt-id": "bye" });
  } finally {
    for (const session of [system, alice, bob]) session.close();
  }
});

test("a relay with a wrong system passcode or virtual host gets RabbitMQ's ERROR frame, and the broker serves the next session", async () => {
  const cases: Array<[Headers, string]> = [
    [systemConnect("10000,10000", ["spring-system", "wrong"]), "Access refused for user 'spring-system'\n"],
    [systemConnect("10000,10000", SYSTEM, "no-such-vhost"), "Virtual host 'no-such-vhost' access denied"],
  ];
  for (const [headers, body] of cases) {
    const session = new RelaySession(stomp.port, headers);
    await assert.rejects(session.connect(), { message: `CONNECT refused: Bad CONNECT ${body}` });
    session.close();
  }
  const good = new RelaySession(stomp.port, systemConnect());
  assert.equal((await good.connect()).command, "CONNECTED");
  good.close();
});

test("heart-beats both ways: Warren sends them at the negotiated rate and keeps a relay session that sends them; one that stops is dropped", async () => {
  // A browser that asked for 1000,1000 (the relay forwards its heart-beat header; the system session takes setSystemHeartbeat*).
  const beating = new RelaySession(stomp.port, userConnect("1000,1000"));
  const hanging = new RelaySession(stomp.port, userConnect("1000,1000"));
  try {
    assert.equal((await beating.connect()).headers["heart-beat"], "1000,1000");
    await hanging.connect();
    hanging.stopSendingHeartbeats();
    // Warren drops the silent one (after about two intervals, as RabbitMQ) ...
    await waitFor(() => !hanging.isConnected, 10_000);
    assert.deepEqual(hanging.failures, ["Connection to broker closed."]);
    // ... while the one that beats is still served after the same time, and has seen Warren's beats.
    await waitFor(() => beating.heartbeatsReceived >= 3 && beating.heartbeatsSent >= 3, 10_000);
    assert.equal(beating.isConnected, true);
    beating.send("SUBSCRIBE", [
      ["id", "s"],
      ["destination", "/topic/alive"],
      ["receipt", "still-here"],
    ]);
    assert.deepEqual((await beating.frame()).headers, { "receipt-id": "still-here" });
    assert.deepEqual(beating.failures, []);
    assert.ok(stomp.broker.logs.some((entry) => entry.msg === "STOMP heart-beats missed, closing connection"));
  } finally {
    beating.close();
    hanging.close();
  }
});

test("a broker that hangs (missing heart-beats) and then restarts on the same port and data dir: the relay notices, reconnects, and the persistent message waits for it", async () => {
  const dir = await dirs.fresh("restart");
  const port = await freePort();
  const first = await startChildBroker(dir, ["stomp"], { stomp: port });
  // setSystemHeartbeatSendInterval(1000) / setSystemHeartbeatReceiveInterval(1000); reconnect every 200 ms instead of 5000.
  // A broker from the `warren` command with only its default user: the relay logs in as guest (Spring's default too).
  const system = new RelaySession(port, systemConnect("1000,1000", GUEST), 200);
  const user = new RelaySession(port, userConnect("1000,1000", GUEST));
  try {
    assert.equal((await system.connect()).headers["heart-beat"], "1000,1000");
    await user.connect();
    system.send(
      "SEND",
      [
        ["destination", "/queue/inbox"],
        ["persistent", "true"],
        ["receipt", "stored"],
      ],
      "sent before the restart",
    );
    // The receipt comes once the message is on disk (DESIGN §4).
    assert.deepEqual((await system.frame()).headers, { "receipt-id": "stored" });

    // The broker hangs: the sockets stay open but no heart-beat comes; the relay gives up after 3 × 1000 ms
    // (and so does the browser behind the user session, whose heart-beats the relay forwards).
    first.child.kill("SIGSTOP");
    await waitFor(() => system.failures.length > 0 && user.failures.length > 0, 15_000);
    assert.deepEqual(system.failures, ["No messages received in 3000 ms."]);
    assert.deepEqual(user.failures, ["No messages received in 3000 ms."]);
    await killed(first.child);

    const second = await startChildBroker(dir, ["stomp"], { stomp: port });
    await waitFor(() => system.connected.length === 2, 20_000);
    assert.notEqual(system.connected[1]?.headers.session, system.connected[0]?.headers.session);
    // The browser connects again, through the relay, and finds the persistent message.
    const back = new RelaySession(port, userConnect("1000,1000", GUEST));
    try {
      await back.connect();
      await subscribed(back, "sub-0", "/queue/inbox");
      assert.equal((await back.frame()).body.toString(), "sent before the restart");
      await subscribed(back, "sub-1", "/topic/room.1");
      system.send("SEND", [["destination", "/topic/room.1"]], "we are back");
      assert.equal((await back.frame()).body.toString(), "we are back");

      // A broker that goes away (stopped, sockets closed) is noticed at once, and found again once it is back.
      // SIGTERM: Warren closes its connections and exits.
      assert.equal(await stoppedCleanly(second.child), 0);
      await waitFor(() => system.failures.length === 2 && !back.isConnected, 15_000);
      assert.equal(system.failures[1], "Connection to broker closed.");
      assert.deepEqual(back.failures, ["Connection to broker closed."]);
      const third = await startChildBroker(dir, ["stomp"], { stomp: port });
      await waitFor(() => system.connected.length === 3, 20_000);
      system.send(
        "SEND",
        [
          ["destination", "/queue/inbox"],
          ["receipt", "posted"],
        ],
        "after the second restart",
      );
      assert.deepEqual((await system.frame()).headers, { "receipt-id": "posted" });
      assert.equal(await stoppedCleanly(third.child), 0);
    } finally {
      back.close();
      await killed(second.child);
    }
  } finally {
    system.close();
    user.close();
    await killed(first.child);
  }
});
