/**
 * /api/bindings and the /api/bindings/{vhost}/e/{source}/{q|e}/{destination}[/{props}]
 * forms. A binding is named by its properties_key (format/binding.ts).
 */
import type { Binding, Destination, Exchange } from "../../core/exchanges/exchange.js";
import type { VHost } from "../../core/vhost.js";
import { accessFor, loginVhosts, param, visibleVhost, type RequestContext } from "../context.js";
import { objectNotFound, translateCoreErrors } from "../errors.js";
import { created, noContent, ok, stringField, type Reply } from "../http-util.js";
import { listReply } from "../listing.js";
import { mapInTurns } from "../streaming.js";
import type { Route } from "../router.js";
import { bindingJson, propertiesKey } from "../format/binding.js";
import { jsonToFieldTable } from "../format/field-table.js";
import { exchangeNameFromUrl } from "./exchanges.js";

type DestinationKind = "q" | "e";

async function listBindings(ctx: RequestContext, vhosts: VHost[]): Promise<Reply> {
  const bindings = vhosts.flatMap((vhost) =>
    [...vhost.listBindings()].map((binding) => ({ binding, vhost: vhost.name })),
  );
  const items = await mapInTurns(bindings, ({ binding, vhost }) => bindingJson(binding, vhost));
  return ok(listReply(items, ctx.query, []));
}

/** Source and destination named in the path; a missing one is 404 with the broker's text (as a POST in RabbitMQ). */
function endpoints(
  ctx: RequestContext,
  kind: DestinationKind,
): { vhost: VHost; source: Exchange; destination: Destination } {
  const vhost = visibleVhost(ctx, param(ctx, "vhost"));
  return translateCoreErrors(() => {
    const source = vhost.getExchange(exchangeNameFromUrl(param(ctx, "source")));
    const destinationName = param(ctx, "destination");
    const destination =
      kind === "q" ? vhost.getQueue(destinationName) : vhost.getExchange(exchangeNameFromUrl(destinationName));
    return { vhost, source, destination };
  });
}

function between(ctx: RequestContext, kind: DestinationKind): { vhost: VHost; bindings: Binding[] } {
  visibleVhost(ctx, param(ctx, "vhost"));
  let resolved;
  try {
    resolved = endpoints(ctx, kind);
  } catch {
    throw objectNotFound();
  }
  const { vhost, source, destination } = resolved;
  return {
    vhost,
    bindings: [...vhost.listBindings()].filter((b) => b.source === source && b.destination === destination),
  };
}

async function createBinding(ctx: RequestContext, kind: DestinationKind): Promise<Reply> {
  const body = await ctx.body();
  const { vhost, source, destination } = endpoints(ctx, kind);
  const routingKey = stringField(body, "routing_key", "");
  const args = jsonToFieldTable(body["arguments"], "arguments");
  translateCoreErrors(() => {
    // RabbitMQ's queue.bind / exchange.bind checks: write on the destination, read on the source.
    const access = accessFor(ctx, vhost.name);
    access.write(kind === "q" ? "queue" : "exchange", destination.name);
    access.read("exchange", source.name);
    vhost.bind(source, destination, routingKey, args);
  });
  // RabbitMQ answers with a Location relative to the request path.
  const location = `../../../../${encodeURIComponent(vhost.name)}/e/${encodeURIComponent(source.name)}/${kind}/${encodeURIComponent(destination.name)}/${propertiesKey(routingKey, args)}`;
  return created({ location });
}

function findBinding(ctx: RequestContext, kind: DestinationKind): { vhost: VHost; binding: Binding } {
  const { vhost, bindings } = between(ctx, kind);
  // The path segment arrives decoded once; clients send the properties_key either as is or
  // percent-encoded again (RabbitMQ's UI does), so both are compared unquoted, as RabbitMQ does.
  const props = unquote(param(ctx, "props"));
  const binding = bindings.find((b) => unquote(propertiesKey(b.routingKey, b.args)) === props);
  if (!binding) throw objectNotFound();
  return { vhost, binding };
}

function unquote(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

function deleteBinding(ctx: RequestContext, kind: DestinationKind): Reply {
  const { vhost, binding } = findBinding(ctx, kind);
  translateCoreErrors(() => {
    const access = accessFor(ctx, vhost.name);
    access.write(kind === "q" ? "queue" : "exchange", binding.destination.name);
    access.read("exchange", binding.source.name);
    vhost.unbind(binding.source, binding.destination, binding.routingKey, binding.args);
  });
  return noContent();
}

const formRoutes = (kind: DestinationKind): Route[] => {
  const base = `/api/bindings/:vhost/e/:source/${kind}/:destination`;
  return [
    {
      method: "GET",
      path: base,
      level: "management",
      handle: (ctx) => {
        const { vhost, bindings } = between(ctx, kind);
        return ok(bindings.map((b) => bindingJson(b, vhost.name)));
      },
    },
    { method: "POST", path: base, level: "management", handle: (ctx) => createBinding(ctx, kind) },
    {
      method: "GET",
      path: `${base}/:props`,
      level: "management",
      handle: (ctx) => {
        const { vhost, binding } = findBinding(ctx, kind);
        return ok(bindingJson(binding, vhost.name));
      },
    },
    { method: "DELETE", path: `${base}/:props`, level: "management", handle: (ctx) => deleteBinding(ctx, kind) },
  ];
};

export const bindingRoutes: Route[] = [
  { method: "GET", path: "/api/bindings", level: "management", handle: (ctx) => listBindings(ctx, loginVhosts(ctx)) },
  {
    method: "GET",
    path: "/api/bindings/:vhost",
    level: "management",
    handle: (ctx) => listBindings(ctx, [visibleVhost(ctx, param(ctx, "vhost"))]),
  },
  ...formRoutes("q"),
  ...formRoutes("e"),
];
