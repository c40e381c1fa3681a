/**
 * The partition streams of the JetStream message log: a fixed set, each
 * queue a subject of one (<prefix>.msg.<partition>.<queue token>.<kind>),
 * so that 10,000 queues cost 10,000 subjects, not 10,000 Raft groups
 * (docs/cluster.md has the measurement).
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import { fromToken } from "./subject-token.js";

export interface MessageLayout {
  /** Stream names and subjects start with it, so that tests can share a server. */
  prefix: string;
  partitions: number;
  replicas: number;
}

export const streamNameOf = (layout: MessageLayout, partition: number): string =>
  `${layout.prefix.toUpperCase()}_MSG_${partition}`;

/** Creates the partition streams when missing (idempotent on every node). */
export async function ensurePartitionStreams(jsm: JetStreamManager, layout: MessageLayout): Promise<void> {
  for (let p = 0; p < layout.partitions; p++) {
    const name = streamNameOf(layout, p);
    try {
      await jsm.streams.info(name);
    } catch {
      await jsm.streams.add({
        name,
        subjects: [`${layout.prefix}.msg.${p}.>`],
        num_replicas: layout.replicas,
        storage: "file",
      });
    }
  }
}

/** Keys with records in the partition streams: a listing of every subject (paged by the client), for rare clean-ups. */
export async function storedKeysOf(jsm: JetStreamManager, layout: MessageLayout): Promise<string[]> {
  const keys = new Set<string>();
  for (let p = 0; p < layout.partitions; p++) {
    const info = await jsm.streams.info(streamNameOf(layout, p), { subjects_filter: `${layout.prefix}.msg.${p}.>` });
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const parts = subject.split(".");
      keys.add(fromToken(parts[parts.length - 2] as string));
    }
  }
  return [...keys];
}
