/** /api/exchanges: list, declare (PUT), delete, publish, and an exchange's bindings. */
import type { Exchange } from "../../core/exchanges/exchange.js";
import { Message } from "../../core/message.js";
import type { VHost } from "../../core/vhost.js";
import { accessFor, loginVhosts, param, vhostForDeclare, visibleVhost, type RequestContext } from "../context.js";
import { badRequest, objectNotFound, translateCoreErrors } from "../errors.js";
import { boolField, created, noContent, ok, requireKeys, stringField, type Reply } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";
import { bindingJson } from "../format/binding.js";
import { exchangeJson } from "../format/exchange.js";
import { jsonToFieldTable } from "../format/field-table.js";
import { jsonToProperties } from "../format/properties.js";

/** The default exchange is "amq.default" in URLs (RabbitMQ's rabbit_mgmt_util:id/2). */
export const exchangeNameFromUrl = (name: string): string => (name === "amq.default" ? "" : name);

function findExchange(ctx: RequestContext): { vhost: VHost; exchange: Exchange } {
  const vhost = visibleVhost(ctx, param(ctx, "vhost"));
  const exchange = vhost.exchanges.get(exchangeNameFromUrl(param(ctx, "exchange")));
  if (!exchange) throw objectNotFound();
  return { vhost, exchange };
}

function listExchanges(ctx: RequestContext, vhosts: VHost[]): Reply {
  const items = vhosts.flatMap((vhost) => [...vhost.exchanges.values()].map((e) => exchangeJson(ctx.mgmt, e)));
  return ok(listReply(items, ctx.query, ["vhost", "name"]));
}

async function putExchange(ctx: RequestContext): Promise<Reply> {
  const vhost = vhostForDeclare(ctx);
  const name = exchangeNameFromUrl(param(ctx, "exchange"));
  const body = await ctx.body();
  const existed = vhost.exchanges.has(name);
  translateCoreErrors(() => {
    accessFor(ctx, vhost.name).configure("exchange", name);
    vhost.declareExchange(
      name,
      {
        type: stringField(body, "type", "direct"),
        // RabbitMQ 3.10's API declares non-durable unless told otherwise.
        durable: boolField(body, "durable", false),
        autoDelete: boolField(body, "auto_delete", false),
        internal: boolField(body, "internal", false),
        arguments: jsonToFieldTable(body["arguments"], "arguments"),
      },
      false,
    );
  });
  return existed ? noContent() : created();
}

function deleteExchange(ctx: RequestContext): Reply {
  const { vhost, exchange } = findExchange(ctx);
  translateCoreErrors(() => {
    accessFor(ctx, vhost.name).configure("exchange", exchange.name);
    vhost.deleteExchange(exchange.name, ctx.query.get("if-unused") === "true");
  });
  return noContent();
}

/** POST .../publish: {"routed": true} when at least one queue got the message. */
async function publish(ctx: RequestContext): Promise<Reply> {
  const { vhost, exchange } = findExchange(ctx);
  const body = await ctx.body();
  requireKeys(body, ["routing_key", "payload", "payload_encoding"]);
  const routingKey = stringField(body, "routing_key", "");
  const encoding = stringField(body, "payload_encoding", "string");
  const payload = stringField(body, "payload", "");
  if (encoding !== "string" && encoding !== "base64") throw badRequest(["unsupported_encoding", encoding]);
  const properties = jsonToProperties(body["properties"]);
  const bytes = Buffer.from(payload, encoding === "base64" ? "base64" : "utf8");
  const queues = translateCoreErrors(() => {
    accessFor(ctx, vhost.name).write("exchange", exchange.name);
    if (exchange.internal)
      throw badRequest(`cannot publish to internal exchange '${exchange.name}' in vhost '${vhost.name}'`);
    return vhost.publish(exchange, new Message(exchange.name, routingKey, properties, bytes));
  });
  return ok({ routed: queues.length > 0 });
}

export const exchangeRoutes: Route[] = [
  { method: "GET", path: "/api/exchanges", level: "management", handle: (ctx) => listExchanges(ctx, loginVhosts(ctx)) },
  {
    method: "GET",
    path: "/api/exchanges/:vhost",
    level: "management",
    handle: (ctx) => listExchanges(ctx, [visibleVhost(ctx, param(ctx, "vhost"))]),
  },
  {
    method: "GET",
    path: "/api/exchanges/:vhost/:exchange",
    level: "management",
    handle: (ctx) => ok(exchangeJson(ctx.mgmt, findExchange(ctx).exchange)),
  },
  { method: "PUT", path: "/api/exchanges/:vhost/:exchange", level: "management", handle: putExchange },
  { method: "DELETE", path: "/api/exchanges/:vhost/:exchange", level: "management", handle: deleteExchange },
  { method: "POST", path: "/api/exchanges/:vhost/:exchange/publish", level: "management", handle: publish },
  {
    method: "GET",
    path: "/api/exchanges/:vhost/:exchange/bindings/source",
    level: "management",
    handle: (ctx) => {
      const { vhost, exchange } = findExchange(ctx);
      const bindings =
        exchange === vhost.defaultExchange
          ? [...vhost.listBindings()].filter((b) => b.source === exchange)
          : [...exchange.bindings.values()];
      return ok(bindings.map((b) => bindingJson(b, vhost.name)));
    },
  },
  {
    method: "GET",
    path: "/api/exchanges/:vhost/:exchange/bindings/destination",
    level: "management",
    handle: (ctx) => {
      const { vhost, exchange } = findExchange(ctx);
      return ok(
        [...vhost.listBindings()].filter((b) => b.destination === exchange).map((b) => bindingJson(b, vhost.name)),
      );
    },
  },
];
