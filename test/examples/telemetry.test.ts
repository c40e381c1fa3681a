import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { startDashboard, type Dashboard } from "../../examples/telemetry/dashboard.js";
import { startReadingStore, type ReadingStore, type StoredRow } from "../../examples/telemetry/reading-store.js";
import { openCommandLink, type CommandLink } from "../../examples/telemetry/send-command.js";
import type { Reading } from "../../examples/telemetry/topics.js";
import { TestBroker, waitFor } from "../helpers/broker.js";
import { signalled, stoppedCleanly } from "../helpers/child-broker.js";
import { runExample, type ExampleProcess } from "./example-process.js";

/** A device as its own process (so that it can be killed), resolved once it is online. */
function startDeviceProcess(url: string, site: string, device: string): Promise<ExampleProcess> {
  const env = { ...process.env, MQTT_URL: url, READING_INTERVAL_MS: "100", ALERT_ABOVE: "28" };
  return runExample("telemetry/device.js", [site, device], env, (line) => line === `[${site}/${device}] online`);
}

const reading = (payload: string): Reading => JSON.parse(payload) as Reading;

describe("examples/telemetry: devices over MQTT, a dashboard, an AMQP store, commands from AMQP", () => {
  let broker: TestBroker;
  let dashboard: Dashboard;
  let store: ReadingStore;
  let link: CommandLink;
  const rows: StoredRow[] = [];
  const devices: ChildProcess[] = [];
  before(async () => {
    broker = await TestBroker.start();
    store = await startReadingStore(broker.url, async (row) => void rows.push(row));
    dashboard = await startDashboard(broker.broker.urls.mqtt as string);
    link = await openCommandLink(broker.url);
  });
  after(async () => {
    await Promise.all(devices.map((child) => signalled(child, "SIGKILL")));
    await link?.close();
    await dashboard?.stop();
    await store?.stop();
    await broker?.stop();
  });
  const device = async (site: string, name: string, over: "tcp" | "ws" = "tcp"): Promise<ExampleProcess> => {
    const running = await startDeviceProcess(
      broker.broker.urls[over === "ws" ? "webMqtt" : "mqtt"] as string,
      site,
      name,
    );
    devices.push(running.child);
    return running;
  };
  const stored = (routingKey: string): StoredRow[] => rows.filter((row) => row.routingKey === routingKey);

  test("readings from a TCP and a WebSocket device reach the dashboard's wildcard subscriptions and the AMQP store; alerts come at QoS 1", async () => {
    const tcp = await device("site1", "dev1");
    const ws = await device("site1", "dev2", "ws");
    for (const name of ["dev1", "dev2"]) {
      const topic = `sensors/site1/${name}/temp`;
      const routingKey = `sensors.site1.${name}.temp`;
      // The same reading (seq 3) in both places: over MQTT on the dashboard, over AMQP in the store.
      await waitFor(() => stored(routingKey).some((row) => (row.body as Reading).seq === 3), 20_000);
      const inStore = stored(routingKey).find((row) => (row.body as Reading).seq === 3)?.body as Reading;
      const onDashboard = await waitFor(() =>
        dashboard.log.find((entry) => entry.topic === topic && reading(entry.payload).seq === 3),
      );
      assert.deepEqual(reading(onDashboard.payload), inStore);
      assert.equal(inStore.metric, "temp");
      assert.equal(onDashboard.qos, 0, "readings are QoS 0");
      // sensors/+/+/temp feeds the temperature panel; sensors/# also gets humidity.
      assert.ok(dashboard.temperatures.has(topic));
      await waitFor(() => dashboard.log.some((entry) => entry.topic === `sensors/site1/${name}/humidity`));
      await waitFor(() => stored(`sensors.site1.${name}.humidity`).length > 0);
      // Temperatures above 28 (seq 9, 10, 11 of the saw-tooth) raise an alert at QoS 1.
      const alert = await waitFor(
        () => dashboard.log.find((entry) => entry.topic === `sensors/site1/${name}/alert`),
        20_000,
      );
      assert.equal(alert.qos, 1);
      assert.ok(reading(alert.payload).value > 28);
      await waitFor(() => stored(`sensors.site1.${name}.alert`).length > 0);
    }
    assert.deepEqual(
      [...dashboard.temperatures.keys()].filter((topic) => !topic.endsWith("/temp")),
      [],
      "only temperatures match sensors/+/+/temp",
    );
    await Promise.all([signalled(tcp.child, "SIGTERM"), signalled(ws.child, "SIGTERM")]);
  });

  test("a device killed with SIGKILL has its will published; a late subscriber gets the retained last values", async () => {
    const killed = await device("site2", "dev1");
    const leaving = await device("site2", "dev2", "ws");
    await waitFor(
      () => dashboard.latest("sensors/site2/dev1/temp") && dashboard.latest("sensors/site2/dev2/temp"),
      20_000,
    );
    await signalled(killed.child, "SIGKILL");
    // The process is gone, so this "offline" is the will, published by the broker when the socket closed.
    await waitFor(() => dashboard.latest("sensors/site2/dev1/status")?.payload === "offline", 20_000);
    await waitFor(() => stored("sensors.site2.dev1.status").at(-1)?.body === "offline");
    // SIGTERM: the device says "offline" itself and disconnects cleanly.
    await signalled(leaving.child, "SIGTERM");
    await waitFor(() => dashboard.latest("sensors/site2/dev2/status")?.payload === "offline");

    const late = await mqtt.connectAsync(broker.broker.urls.mqtt as string, { protocolVersion: 4, clean: true });
    try {
      const retained = new Map<string, { payload: string; retain: boolean }>();
      late.on("message", (topic, payload, packet) =>
        retained.set(topic, { payload: payload.toString(), retain: packet.retain }),
      );
      await late.subscribeAsync("sensors/site2/#", { qos: 1 });
      const topics = ["dev1", "dev2"].flatMap((name) =>
        ["temp", "humidity", "status"].map((metric) => `sensors/site2/${name}/${metric}`),
      );
      await waitFor(() => topics.every((topic) => retained.has(topic)));
      for (const topic of topics) {
        assert.deepEqual(retained.get(topic), { payload: dashboard.latest(topic)?.payload, retain: true }, topic);
      }
      assert.equal(retained.get("sensors/site2/dev1/status")?.payload, "offline");
      assert.equal(retained.has("sensors/site2/dev1/alert"), false, "alerts are not retained");
    } finally {
      await late.endAsync();
    }
  });

  test("a device over MQTT-over-WebSocket killed with SIGKILL has its will published", async () => {
    const killed = await device("site4", "dev1", "ws");
    await signalled(killed.child, "SIGKILL");
    await waitFor(() => dashboard.latest("sensors/site4/dev1/status")?.payload === "offline", 10_000);
  });

  test("QoS 2 commands from AMQP reach a device once: one while it is online, one sent while it was killed arrives once after it reconnects with its persistent session", async () => {
    const first = await device("site3", "dev1");
    const before = await link.send("site3", "dev1", "reboot");
    await link.ackOf(before);
    assert.deepEqual(
      first.lines.filter((line) => line.includes(" command ")),
      [`[site3/dev1] command ${before} reboot`],
    );

    await signalled(first.child, "SIGKILL");
    await waitFor(() => dashboard.latest("sensors/site3/dev1/status")?.payload === "offline", 20_000);
    const whileAway = await link.send("site3", "dev1", "calibrate");
    // Same client id, clean session off: the broker kept the subscription and queued the command.
    const second = await device("site3", "dev1");
    await link.ackOf(whileAway);
    // A command after it: had the first two been delivered again, they would have come before this one.
    const after = await link.send("site3", "dev1", "report");
    await link.ackOf(after);
    assert.deepEqual(
      second.lines.filter((line) => line.includes(" command ")),
      [`[site3/dev1] command ${whileAway} calibrate`, `[site3/dev1] command ${after} report`],
    );
    for (const commandId of [before, whileAway, after]) {
      assert.equal(link.acks.filter((ack) => ack.commandId === commandId).length, 1, `one ack for ${commandId}`);
    }
    await signalled(second.child, "SIGTERM");
  });
});

test("examples/telemetry start.js, the one command: devices online, readings on the dashboard, stops on SIGTERM", async () => {
  const env = {
    ...process.env,
    AMQP_PORT: "0",
    MQTT_PORT: "0",
    WEB_MQTT_PORT: "0",
    READING_INTERVAL_MS: "100",
    STORE_FILE: "/dev/null",
  };
  const start = await runExample("telemetry/start.js", [], env, (line) => line.startsWith("Warren: "));
  const lines = start.lines;
  try {
    await waitFor(
      () =>
        ["dev1", "dev2", "dev3"].every((name) =>
          lines.some((line) => line.startsWith(`dashboard: sensors/site1/${name}/temp {`)),
        ),
      30_000,
    );
    assert.ok(
      lines.some((line) => /^device site1\/dev3 \(pid \d+\) over WebSocket$/.test(line)),
      lines.join("\n"),
    );
  } finally {
    assert.equal(await stoppedCleanly(start.child), 0, lines.join("\n"));
  }
});
