import type { PropertiesCodec } from "../store/types.js";
import type { ClusterQueue } from "./cluster-queue.js";
import { type NodeLinks, routeSubjects } from "./node-links.js";
import { RemoteQueuedMessage, type RemoteSubscription } from "./remote-subscription.js";
import { Kind, openBatch, SettleOutcome } from "./wire.js";

/** A local client's subscription to a queue owned by another node, by subscription id. */
export interface LocalSubscription {
  queue: ClusterQueue;
  subscription: RemoteSubscription;
}

/**
 * Consumer side: a batch of deliveries and cancellations from an owner,
 * handed to the local subscriptions they are for. A delivery for a
 * subscription cancelled meanwhile goes back to the owner at once, so that
 * it is not held there until this node dies.
 */
export function receiveDeliveries(
  data: Uint8Array,
  subscriptions: Map<number, LocalSubscription>,
  links: NodeLinks,
  codec: PropertiesCodec,
): void {
  const { reader, sender: owner } = openBatch(data);
  while (!reader.done) {
    const kind = reader.u8();
    const subscriptionId = reader.u32();
    const epoch = reader.u32();
    const entry = subscriptions.get(subscriptionId);
    if (kind === Kind.Cancelled) {
      if (entry !== undefined && entry.subscription.epoch === epoch) {
        subscriptions.delete(subscriptionId);
        entry.queue.cancelledRemotely(entry.subscription);
      }
      continue;
    }
    if (kind !== Kind.Deliver) throw new Error(`unknown delivery record ${kind}`);
    const deliveryId = reader.u32();
    const redelivered = reader.u8() === 1;
    const deliveryCount = reader.u32();
    const message = reader.message(codec);
    if (entry !== undefined && entry.subscription.epoch === epoch) {
      const delivery = new RemoteQueuedMessage(message, entry.subscription, epoch, deliveryId);
      delivery.redelivered = redelivered;
      delivery.deliveryCount = deliveryCount;
      if (entry.queue.received(delivery)) continue;
    }
    links
      .to(routeSubjects(owner).control)
      .u8(Kind.Settle)
      .u32(subscriptionId)
      .u32(epoch)
      .u8(SettleOutcome.Requeue)
      .u32(deliveryId);
  }
}
