/** /api/aliveness-test/{vhost} and /api/health/checks/*: RabbitMQ's health probes for a single node. */
import { Message } from "../../core/message.js";
import { param, visibleVhost, type RequestContext } from "../context.js";
import { ok, type Reply } from "../http-util.js";
import type { Route } from "../router.js";

const ALIVENESS_QUEUE = "aliveness-test";

/** Declares aliveness-test, publishes to it and gets the message back, as rabbit_mgmt_wm_aliveness_test. */
function aliveness(ctx: RequestContext): Reply {
  const vhost = visibleVhost(ctx, param(ctx, "vhost"));
  const { queue } = vhost.declareQueue(
    ALIVENESS_QUEUE,
    { durable: false, exclusive: false, autoDelete: false, arguments: {} },
    false,
    -1,
  );
  vhost.publish(vhost.defaultExchange, new Message("", ALIVENESS_QUEUE, {}, Buffer.from("test_message")));
  const queued = queue.get(true);
  if (!queued || queued.message.body.toString() !== "test_message")
    return failed("aliveness test message was not received");
  return ok({ status: "ok" });
}

/** A failed check answers 503 with {"status":"failed","reason":...}, not the usual error body. */
function failed(reason: string, extra: Record<string, unknown> = {}): Reply {
  return { status: 503, body: { status: "failed", reason, ...extra } };
}

function alarms(ctx: RequestContext): Reply {
  const blocked = ctx.mgmt.broker.blocked;
  if (blocked !== null)
    return failed("resource alarm(s) in effect in the cluster", {
      alarms: [{ node: ctx.mgmt.node, resource: blocked }],
    });
  return ok({ status: "ok" });
}

const simple = (path: string, body: Record<string, unknown> = { status: "ok" }): Route => ({
  method: "GET",
  path,
  level: "management",
  handle: () => ok(body),
});

export const healthRoutes: Route[] = [
  { method: "GET", path: "/api/aliveness-test/:vhost", level: "management", handle: aliveness },
  { method: "GET", path: "/api/health/checks/alarms", level: "management", handle: alarms },
  { method: "GET", path: "/api/health/checks/local-alarms", level: "management", handle: alarms },
  simple("/api/health/checks/virtual-hosts"),
  simple("/api/health/checks/node-is-quorum-critical", { status: "ok", reason: "single node cluster" }),
  simple("/api/health/checks/node-is-mirror-sync-critical", { status: "ok", reason: "single node cluster" }),
  simple("/api/health/checks/certificate-expiration/:within/:unit"),
  {
    method: "GET",
    path: "/api/health/checks/port-listener/:port",
    level: "management",
    handle: (ctx) => {
      const port = Number(param(ctx, "port"));
      const ports = ctx.mgmt.listeners().map((l) => l.port);
      if (!ports.includes(port)) return failed("No active listener", { missing: port, ports });
      return ok({ status: "ok", port });
    },
  },
  {
    method: "GET",
    path: "/api/health/checks/protocol-listener/:protocol",
    level: "management",
    handle: (ctx) => {
      const protocol = param(ctx, "protocol");
      const protocols = ctx.mgmt.listeners().map((l) => l.protocol);
      if (!protocols.includes(protocol)) return failed("No active listener", { missing: protocol, protocols });
      return ok({ status: "ok", protocol });
    },
  },
];
