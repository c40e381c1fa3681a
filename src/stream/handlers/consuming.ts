import type { OffsetSpec } from "../../core/stream/consumer-options.js";
import type { StreamConnection } from "../connection.js";
import { FrameBuilder, type FrameReader } from "../frame-io.js";
import { Code, Command, RESPONSE } from "../protocol.js";
import { joinGroup, leaveGroup } from "../single-active.js";
import { readOffsetSpec } from "../offset-spec.js";
import { StreamSubscription } from "../stream-subscription.js";
import { findStream } from "./publishing.js";
import { scheduleDispatch } from "../../core/dispatch-scheduler.js";

/** Subscribe, Credit, Unsubscribe, StoreOffset, QueryOffset. */
export function handleConsuming(connection: StreamConnection, key: number, frame: FrameReader): boolean {
  switch (key) {
    case Command.Subscribe:
      subscribe(connection, frame);
      return true;
    case Command.Credit: {
      const subscriptionId = frame.u8();
      const credit = frame.u16();
      const subscription = connection.subscriptions.get(subscriptionId);
      if (subscription === undefined) {
        // The only answer Credit ever gets: an unknown subscription.
        connection.send(
          new FrameBuilder(Command.Credit | RESPONSE).u16(Code.SubscriptionIdDoesNotExist).u8(subscriptionId),
        );
        return true;
      }
      subscription.credit += credit;
      scheduleDispatch(subscription.queue);
      return true;
    }
    case Command.Unsubscribe: {
      const correlationId = frame.u32();
      const subscription = connection.subscriptions.get(frame.u8());
      if (subscription === undefined) {
        connection.send(connection.respond(key, correlationId, Code.SubscriptionIdDoesNotExist));
        return true;
      }
      connection.subscriptions.delete(subscription.subscriptionId);
      subscription.queue.removeConsumer(subscription);
      leaveGroup(subscription);
      connection.unwatchIfUnused(subscription.queue);
      connection.send(connection.respond(key, correlationId, Code.Ok));
      return true;
    }
    case Command.StoreOffset: {
      const reference = frame.string();
      const stream = findStream(connection, frame.string());
      const offset = Number(frame.u64());
      stream?.storeOffset(reference, offset);
      return true;
    }
    case Command.QueryOffset: {
      const correlationId = frame.u32();
      const reference = frame.string();
      const stream = findStream(connection, frame.string());
      const offset = stream?.queryOffset(reference) ?? null;
      if (stream === null) connection.send(connection.respond(key, correlationId, Code.StreamDoesNotExist).u64(0));
      else if (offset === null) connection.send(connection.respond(key, correlationId, Code.NoOffset).u64(0));
      else connection.send(connection.respond(key, correlationId, Code.Ok).u64(offset));
      return true;
    }
    case Command.Deliver | RESPONSE:
      return true;
    case Command.ConsumerUpdate | RESPONSE: {
      const id = frame.u32();
      const answered = connection.awaitingResponse.get(id);
      connection.awaitingResponse.delete(id);
      answered?.(frame);
      return true;
    }
    default:
      return false;
  }
}

function subscribe(connection: StreamConnection, frame: FrameReader): void {
  const correlationId = frame.u32();
  const subscriptionId = frame.u8();
  const name = frame.string();
  let code: number;
  try {
    const offset = readOffsetSpec(frame);
    const credit = frame.u16();
    const properties = frame.remaining > 0 ? frame.map() : new Map<string, string>();
    const stream = findStream(connection, name);
    if (stream === null) code = Code.StreamDoesNotExist;
    else if (connection.subscriptions.has(subscriptionId)) code = Code.SubscriptionIdAlreadyExists;
    else {
      connection.access?.read("queue", name);
      const filters = [...properties].filter(([k]) => k.startsWith("filter.")).map(([, v]) => v);
      const subscription = new StreamSubscription(connection, subscriptionId, stream, credit);
      connection.subscriptions.set(subscriptionId, subscription);
      connection.watch(stream);
      // The response goes before the first Deliver: deliveries start in a microtask, after this frame.
      connection.send(connection.respond(Command.Subscribe, correlationId, Code.Ok));
      const start = (from: OffsetSpec): void =>
        stream.subscribe(subscription, {
          offset: from,
          filter: filters.length > 0 ? filters : null,
          matchUnfiltered: properties.get("match-unfiltered") === "true",
        });
      const group = properties.get("single-active-consumer") === "true" ? (properties.get("name") ?? "") : null;
      if (group !== null) joinGroup(stream, group, { subscription, start });
      else start(offset);
      return;
    }
  } catch (error) {
    code = connection.codeOf(error);
  }
  connection.send(connection.respond(Command.Subscribe, correlationId, code));
}
