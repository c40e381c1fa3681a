/**
 * POST /api/queues/{vhost}/{queue}/actions. RabbitMQ 3.10 knows "sync" and
 * "cancel_sync" (classic mirroring; 204 for any queue, as Warren has no
 * mirrors) and answers 400 ["unknown", action] for anything else (observed).
 * Warren adds "move": every ready message to the queue named by
 * "destination" in the same vhost, which RabbitMQ's UI does with a shovel.
 * The answer, {"moved": n}, leaves once the moved messages are on disk.
 */
import { moveReadyMessages } from "../../core/move-messages.js";
import type { Queue } from "../../core/queue.js";
import { StreamQueue } from "../../core/stream/stream-queue.js";
import type { Durability } from "../../store/types.js";
import { accessFor, param, visibleVhost, type RequestContext } from "../context.js";
import { ApiError, badRequest, objectNotFound, translateCoreErrors } from "../errors.js";
import { noContent, ok, requireKeys, type JsonObject, type Reply } from "../http-util.js";
import type { Route } from "../router.js";

/** Messages moved per event-loop turn: a long queue moves without holding up every other client. */
const MOVE_BATCH = 1000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const onDisk = (durability: Durability | null): Promise<void> =>
  new Promise((resolve, reject) => {
    if (durability === null || !durability.syncPending) return resolve();
    durability.afterSync((error) => (error === null ? resolve() : reject(error)));
  });

function movable(queue: Queue, role: string): void {
  if (queue instanceof StreamQueue) throw badRequest(`cannot move messages ${role} stream '${queue.name}'`);
  // A cluster queue's messages live with its owner node; this node's copy is not the queue.
  if (queue.ownerNode !== null) throw badRequest(`cannot move messages ${role} cluster queue '${queue.name}'`);
}

async function move(ctx: RequestContext, source: Queue, body: JsonObject): Promise<Reply> {
  requireKeys(body, ["destination"]);
  const destinationName = body["destination"];
  if (typeof destinationName !== "string") throw badRequest("destination must be a string");
  const vhost = visibleVhost(ctx, source.vhost);
  const destination = translateCoreErrors(() => {
    const access = accessFor(ctx, vhost.name);
    access.read("queue", source.name);
    access.write("queue", destinationName);
    return vhost.getQueue(destinationName);
  });
  if (destination === source) throw badRequest(`cannot move messages from queue '${source.name}' to itself`);
  movable(source, "out of");
  movable(destination, "into");
  // The ready messages there now: what arrives meanwhile stays, as the shovel's src-delete-after queue-length.
  let left = source.messageCount;
  let moved = 0;
  while (left > 0) {
    const want = Math.min(left, MOVE_BATCH);
    const step = moveReadyMessages(source, destination, want);
    moved += step;
    left -= step;
    if (step < want) break; // the source ran dry, or the destination refused (x-overflow reject-publish)
    if (left > 0) await turn();
  }
  try {
    await onDisk(ctx.mgmt.broker.durability);
  } catch (error) {
    throw new ApiError(500, "internal_error", `moved ${moved} messages but writing them failed: ${String(error)}`);
  }
  return ok({ moved });
}

export const queueActionRoutes: Route[] = [
  {
    method: "POST",
    path: "/api/queues/:vhost/:queue/actions",
    level: "management",
    handle: async (ctx) => {
      const queue = visibleVhost(ctx, param(ctx, "vhost")).queues.get(param(ctx, "queue"));
      if (queue === undefined) throw objectNotFound();
      const body = await ctx.body();
      requireKeys(body, ["action"]);
      const action = body["action"];
      if (action === "sync" || action === "cancel_sync") return noContent();
      if (action === "move") return move(ctx, queue, body);
      throw badRequest(["unknown", action ?? null]);
    },
  },
];
