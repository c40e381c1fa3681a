/**
 * RabbitMQ's connection, channel and queue limits (issue 11): per vhost
 * (max-connections, max-queues), per user (max-connections, max-channels)
 * and per node, with RabbitMQ 3.10.8's API paths, JSON and refusal texts
 * (observed on the reference broker), enforced on every protocol, and kept
 * in the definitions across a restart.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import amqplib, { type ChannelModel } from "amqplib";
import mqtt from "mqtt";
import { TestBroker } from "../../helpers/broker.js";
import {
  CONNECTION_CLOSE,
  CONNECTION_TUNE,
  type ConnectionClose,
  type ConnectionTune,
} from "../../../src/amqp/codec/generated.js";
import { nextError, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { runCtl } from "../../../src/cli/ctl/main.js";
import { RawStompClient } from "../stomp/raw-client.js";
import { Api } from "./api-client.js";

const dirs = useDataDirs("warren-limits-");

/** The connection.close a login to `vhost` gets (amqplib does not report the reply text of a refused open). */
async function refusal(broker: TestBroker, vhost = "/"): Promise<{ code: number; text: string }> {
  const raw = await RawAmqp.connect(broker.port);
  try {
    await raw.startHandshake();
    raw.tuneOk(await raw.expectMethod<ConnectionTune>(CONNECTION_TUNE));
    raw.open(vhost);
    const close = await raw.expectMethod<ConnectionClose>(CONNECTION_CLOSE);
    return { code: close.replyCode, text: close.replyText };
  } finally {
    raw.destroy();
  }
}

async function withVhost(api: Api, name: string): Promise<void> {
  assert.equal((await api.put(`/api/vhosts/${name}`)).status, 201);
}

describe("vhost and user limits", () => {
  it("the API sets, shows and clears limits with RabbitMQ's paths, JSON and refusals", async () => {
    await withBrokerOn(await dirs.fresh("api"), async (broker) => {
      const api = Api.of(broker);
      await withVhost(api, "lim");
      assert.equal((await api.put("/api/vhost-limits/lim/max-connections", { value: 1 })).status, 204);
      assert.equal((await api.put("/api/vhost-limits/lim/max-queues", { value: 1 })).status, 204);
      assert.deepEqual(await api.json("/api/vhost-limits"), [
        { vhost: "lim", value: { "max-connections": 1, "max-queues": 1 } },
      ]);
      assert.deepEqual(await api.json("/api/vhost-limits/lim"), [
        { vhost: "lim", value: { "max-connections": 1, "max-queues": 1 } },
      ]);
      assert.deepEqual(await api.json("/api/vhost-limits/%2F"), []);

      const unknown = await api.put("/api/vhost-limits/lim/max-foo", { value: 1 });
      assert.deepEqual(
        [unknown.status, unknown.json],
        [
          400,
          { error: "bad_request", reason: 'Validation failed\n\nUnrecognised terms [{<<"max-foo">>,1}] in limits\n' },
        ],
      );
      const notNumber = await api.put("/api/vhost-limits/lim/max-queues", { value: "x" });
      assert.deepEqual(notNumber.json, {
        error: "bad_request",
        reason: 'Validation failed\n\nmax-queues should be a number, actually was <<"x">>\n',
      });
      const fraction = await api.put("/api/vhost-limits/lim/max-queues", { value: 1.5 });
      assert.deepEqual(fraction.json, {
        error: "bad_request",
        reason: "Validation failed\n\nmax-queues should be a number, actually was 1.5\n",
      });
      const missing = await api.put("/api/vhost-limits/lim/max-queues", {});
      assert.deepEqual(
        [missing.status, missing.json],
        [400, { error: "bad_request", reason: "[{key_missing,value}]" }],
      );
      const noVhost = await api.put("/api/vhost-limits/nope/max-queues", { value: 1 });
      assert.deepEqual([noVhost.status, noVhost.json], [404, { error: "not_found", reason: "vhost_not_found" }]);
      assert.equal((await api.get("/api/vhost-limits/nope")).status, 404);

      assert.equal((await api.put("/api/user-limits/guest/max-connections", { value: 5 })).status, 204);
      assert.equal((await api.put("/api/user-limits/guest/max-channels", { value: 3 })).status, 204);
      assert.deepEqual(await api.json("/api/user-limits"), [
        { user: "guest", value: { "max-connections": 5, "max-channels": 3 } },
      ]);
      assert.deepEqual((await api.json<{ limits: unknown }>("/api/users/guest")).limits, {
        "max-connections": 5,
        "max-channels": 3,
      });
      const noUser = await api.put("/api/user-limits/nobody/max-channels", { value: 3 });
      assert.deepEqual(
        [noUser.status, noUser.json],
        [400, { error: "bad_request", reason: ["no_such_user", "nobody"] }],
      );
      const unknownUserLimit = await api.put("/api/user-limits/guest/max-foo", { value: 3 });
      assert.deepEqual(unknownUserLimit.json, {
        error: "bad_request",
        reason: 'Unrecognised terms [{<<"max-foo">>,3}] in user-limits',
      });
      const userNotNumber = await api.put("/api/user-limits/guest/max-channels", { value: "x" });
      assert.deepEqual(userNotNumber.json, {
        error: "bad_request",
        reason: 'max-channels should be a number, actually was <<"x">>',
      });

      // Definitions carry them as RabbitMQ exports them.
      const definitions = await api.json<{ parameters: unknown[]; users: Array<{ name: string; limits: unknown }> }>(
        "/api/definitions",
      );
      assert.deepEqual(definitions.parameters, [
        { value: { "max-connections": 1, "max-queues": 1 }, vhost: "lim", component: "vhost-limits", name: "limits" },
      ]);
      assert.deepEqual(definitions.users.find((u) => u.name === "guest")?.limits, {
        "max-connections": 5,
        "max-channels": 3,
      });

      assert.equal((await api.delete("/api/vhost-limits/lim/max-queues")).status, 204);
      assert.equal((await api.delete("/api/user-limits/guest/max-connections")).status, 204);
      assert.deepEqual(await api.json("/api/vhost-limits/lim"), [{ vhost: "lim", value: { "max-connections": 1 } }]);
      assert.deepEqual(await api.json("/api/user-limits/guest"), [{ user: "guest", value: { "max-channels": 3 } }]);
    });
  });

  it("warren ctl set_vhost_limits / clear_vhost_limits / set_user_limits / clear_user_limits", async () => {
    await withBrokerOn(await dirs.fresh("ctl"), async (broker) => {
      const api = Api.of(broker);
      await withVhost(api, "ctl");
      const ctl = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
        let out = "";
        let err = "";
        const code = await runCtl(
          ["--url", broker.broker.urls.http as string, ...args],
          {},
          { out: (t) => (out += t), err: (t) => (err += t) },
        );
        return { code, out, err };
      };
      assert.deepEqual(await ctl("-p", "ctl", "set_vhost_limits", '{"max-connections": 3, "max-queues": 10}'), {
        code: 0,
        out: 'Applying limits "{"max-connections": 3, "max-queues": 10}" to vhost "ctl" ...\n',
        err: "",
      });
      assert.deepEqual(await api.json("/api/vhost-limits/ctl"), [
        { vhost: "ctl", value: { "max-connections": 3, "max-queues": 10 } },
      ]);
      const bad = await ctl("-p", "ctl", "set_vhost_limits", '{"max-foo": 1}');
      assert.equal(bad.code, 70);
      assert.match(bad.err, /Unrecognised terms/);
      assert.equal((await ctl("-p", "ctl", "clear_vhost_limits")).code, 0);
      assert.deepEqual(await api.json("/api/vhost-limits/ctl"), []);

      assert.equal((await ctl("set_user_limits", "guest", '{"max-channels": 4, "max-connections": 2}')).code, 0);
      assert.deepEqual(await api.json("/api/user-limits/guest"), [
        { user: "guest", value: { "max-channels": 4, "max-connections": 2 } },
      ]);
      assert.equal((await ctl("clear_user_limits", "guest", "max-channels")).code, 0);
      assert.deepEqual(await api.json("/api/user-limits/guest"), [{ user: "guest", value: { "max-connections": 2 } }]);
      assert.equal((await ctl("clear_user_limits", "guest", "all")).code, 0);
      assert.deepEqual(await api.json("/api/user-limits/guest"), []);
      assert.equal((await ctl("set_user_limits", "guest", "not json")).code, 64);
    });
  });

  it("limits survive a restart, and a definitions import sets them", async () => {
    const dir = await dirs.fresh("restart");
    await withBrokerOn(dir, async (broker) => {
      const api = Api.of(broker);
      await withVhost(api, "kept");
      await api.put("/api/vhost-limits/kept/max-queues", { value: 7 });
      await api.put("/api/user-limits/guest/max-channels", { value: 9 });
      const imported = await api.post("/api/definitions", {
        users: [{ name: "bob", password: "pw", tags: "", limits: { "max-connections": 2 } }],
        vhosts: [{ name: "imported" }],
        parameters: [{ value: { "max-connections": 4 }, vhost: "imported", component: "vhost-limits", name: "limits" }],
      });
      assert.ok(imported.status === 200 || imported.status === 204, imported.text);
    });
    await withBrokerOn(dir, async (broker) => {
      const api = Api.of(broker);
      assert.deepEqual(await api.json("/api/vhost-limits"), [
        { vhost: "kept", value: { "max-queues": 7 } },
        { vhost: "imported", value: { "max-connections": 4 } },
      ]);
      assert.deepEqual(await api.json("/api/user-limits"), [
        { user: "guest", value: { "max-channels": 9 } },
        { user: "bob", value: { "max-connections": 2 } },
      ]);
    });
  });

  it("a vhost's max-connections refuses the next AMQP, STOMP and MQTT login in that vhost only", async () => {
    await withBrokerOn(await dirs.fresh("vhost-conn"), async (broker) => {
      const api = Api.of(broker);
      await withVhost(api, "lim");
      await api.put("/api/permissions/lim/guest", { configure: ".*", write: ".*", read: ".*" });
      await api.put("/api/vhost-limits/lim/max-connections", { value: 1 });
      const first = await amqplib.connect(broker.urlFor("guest", "guest", "lim"));
      try {
        assert.deepEqual(await refusal(broker, "lim"), {
          code: 530,
          text: "NOT_ALLOWED - access to vhost 'lim' refused for user 'guest': connection limit (1) is reached",
        });
        const stomp = await RawStompClient.connect(broker.broker.ports.stomp as number);
        stomp.send("CONNECT", { "accept-version": "1.2", host: "lim", login: "guest", passcode: "guest" });
        const error = await stomp.frame();
        assert.deepEqual(
          [error.command, error.headers["message"], error.body.toString()],
          ["ERROR", "Bad CONNECT", "Virtual host 'lim' access denied"],
        );
        await stomp.closedByServer();
        await assert.rejects(
          mqtt.connectAsync(broker.broker.urls.mqtt as string, {
            username: "lim:guest",
            password: "guest",
            reconnectPeriod: 0,
          }),
          /Not authorized/,
        );
        // Other vhosts are not limited.
        const other = await amqplib.connect(broker.url);
        await other.close();
      } finally {
        await first.close();
      }
      // Once the first is gone the vhost takes a connection again.
      const again = await amqplib.connect(broker.urlFor("guest", "guest", "lim"));
      await again.close();
    });
  });

  it("a vhost's max-queues refuses a new queue with 406 (a redeclare is fine), and a user's limits refuse connections and channels with 530", async () => {
    await withBrokerOn(await dirs.fresh("queues"), async (broker) => {
      const api = Api.of(broker);
      await api.put("/api/vhost-limits/%2F/max-queues", { value: 1 });
      await api.put("/api/user-limits/guest/max-connections", { value: 1 });
      await api.put("/api/user-limits/guest/max-channels", { value: 2 });
      let connection: ChannelModel | null = null;
      try {
        connection = await amqplib.connect(broker.url);
        const channel = await connection.createChannel();
        channel.on("error", () => {});
        await channel.assertQueue("q1");
        await channel.assertQueue("q1");
        await rejectsWithClose(
          channel.assertQueue("q2"),
          406,
          "PRECONDITION_FAILED - cannot declare queue 'q2': queue limit in vhost '/' (1) is reached",
        );
        assert.deepEqual(await refusal(broker), {
          code: 530,
          text: "NOT_ALLOWED - connection refused for user 'guest': user connection limit (1) is reached",
        });
        const apiQueue = await api.put("/api/queues/%2F/q3", {});
        assert.equal(apiQueue.status, 400);
        await connection.createChannel();
        await connection.createChannel();
        const closed = nextError(connection);
        connection.createChannel().catch(() => {});
        assert.deepEqual(await closed, {
          code: 530,
          text: "NOT_ALLOWED - number of channels opened for user 'guest' has reached the maximum allowed user limit of (2)",
        });
        connection = null;
      } finally {
        await connection?.close().catch(() => {});
        // Lifted again, so that the harness's fresh client is served.
        await api.delete("/api/vhost-limits/%2F/max-queues");
        await api.delete("/api/user-limits/guest/max-connections");
        await api.delete("/api/user-limits/guest/max-channels");
      }
    });
  });

  it("the node's maxConnections refuses the next login on any protocol", async () => {
    const broker = await TestBroker.start({ maxConnections: 1, ports: { amqp: 0, stomp: 0, mqtt: 0, http: "off" } });
    const first = await amqplib.connect(broker.url);
    try {
      assert.deepEqual(await refusal(broker), {
        code: 530,
        text: "NOT_ALLOWED - connection refused: node connection limit (1) is reached",
      });
      await assert.rejects(
        mqtt.connectAsync(broker.broker.urls.mqtt as string, {
          username: "guest",
          password: "guest",
          reconnectPeriod: 0,
        }),
        /Not authorized/,
      );
    } finally {
      // The harness's own check needs one connection, which is free again.
      await first.close();
      await broker.stop();
    }
  });
});
