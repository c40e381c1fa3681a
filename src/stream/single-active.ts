import type { OffsetSpec } from "../core/stream/consumer-options.js";
import type { StreamQueue } from "../core/stream/stream-queue.js";
import { FrameBuilder } from "./frame-io.js";
import { readOffsetSpec } from "./offset-spec.js";
import { Code, Command, OffsetType, StreamProtocolError } from "./protocol.js";
import type { StreamSubscription } from "./stream-subscription.js";

/** A subscription made with single-active-consumer, and how it starts reading once active. */
export interface GroupMember {
  readonly subscription: StreamSubscription;
  readonly start: (from: OffsetSpec) => void;
}

/**
 * Single active consumers, as RabbitMQ 3.11+ runs them: subscriptions to
 * one stream with the same `name` form a group, of which only the first
 * reads; when it goes, the next is activated. Activation is a round trip:
 * ConsumerUpdate (active) to the client, whose answer names the offset to
 * read from, and only then the first Deliver (rabbitmq-stream-js-client's
 * super stream consumer drops deliveries that arrive before its
 * declareConsumer has returned: 6 of 60 lost when they came right behind
 * the Subscribe response).
 */
const groups = new WeakMap<StreamQueue, Map<string, GroupMember[]>>();
const groupOf = new WeakMap<StreamSubscription, GroupMember[]>();

export function joinGroup(stream: StreamQueue, name: string, member: GroupMember): void {
  let byName = groups.get(stream);
  if (byName === undefined) groups.set(stream, (byName = new Map<string, GroupMember[]>()));
  let members = byName.get(name);
  if (members === undefined) byName.set(name, (members = []));
  members.push(member);
  groupOf.set(member.subscription, members);
  if (members.length === 1) activate(member);
}

/** The subscription went (Unsubscribe, its connection closed): if it was the active one, the next is activated. */
export function leaveGroup(subscription: StreamSubscription): void {
  const members = groupOf.get(subscription);
  if (members === undefined) return;
  groupOf.delete(subscription);
  const at = members.findIndex((m) => m.subscription === subscription);
  if (at < 0) return;
  members.splice(at, 1);
  const next = members[0];
  if (at === 0 && next !== undefined) activate(next);
}

function activate({ subscription, start }: GroupMember): void {
  const connection = subscription.connection;
  connection.request(
    (correlationId) =>
      new FrameBuilder(Command.ConsumerUpdate).u32(correlationId).u8(subscription.subscriptionId).u8(1),
    (response) => {
      const code = response.u16();
      if (code !== Code.Ok || connection.subscriptions.get(subscription.subscriptionId) !== subscription) return;
      const type = response.u16();
      response.at -= 2;
      if (type < OffsetType.First || type > OffsetType.Timestamp)
        throw new StreamProtocolError(Code.PreconditionFailed, `unknown offset type ${type} in ConsumerUpdate`);
      start(readOffsetSpec(response));
    },
  );
}
