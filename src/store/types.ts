/**
 * The store's narrow interface: a definitions document, a message log and
 * the MQTT state (sessions, retained messages).
 * Two implementations (memory/, file/) pass one contract suite
 * (test/unit/store-contract.test.ts). The core sees only the hook
 * interfaces at the bottom of this file; it never touches a file.
 */
import type { MessageProperties } from "../core/message.js";
import type { Policy } from "../core/policies.js";

// ---- definitions ---------------------------------------------------------

/** JSON-safe field table: see persistence/field-table-json.ts for the tagged encoding of bigint, Buffer and typed values. */
export type JsonArguments = Record<string, unknown>;

/** Shapes follow RabbitMQ's definitions.json export so the file reads familiar. */
export interface UserDefinition {
  name: string;
  password_hash: string;
  hashing_algorithm: string;
  tags: string[];
  /** max-connections / max-channels, as RabbitMQ's definitions keep them; absent = none. */
  limits?: Record<string, number>;
}

export interface PermissionDefinition {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

export interface ExchangeDefinition {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: JsonArguments;
}

export interface QueueDefinition {
  name: string;
  vhost: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: JsonArguments;
}

export interface BindingDefinition {
  source: string;
  vhost: string;
  destination: string;
  destination_type: "queue" | "exchange";
  routing_key: string;
  arguments: JsonArguments;
}

/** Metadata fields are absent in snapshots written before they were kept. */
export interface VhostDefinition {
  name: string;
  description?: string;
  tags?: string[];
  default_queue_type?: string;
  /** max-connections / max-queues (RabbitMQ keeps them as a vhost-limits parameter); absent = none. */
  limits?: Record<string, number>;
}

export interface DefinitionsSnapshot {
  warren_version: 1;
  users: UserDefinition[];
  vhosts: VhostDefinition[];
  permissions: PermissionDefinition[];
  exchanges: ExchangeDefinition[];
  queues: QueueDefinition[];
  bindings: BindingDefinition[];
  policies: Policy[];
}

// ---- messages ------------------------------------------------------------

/** What the log keeps of a message; the core's Message satisfies it structurally. */
export interface StoredMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: MessageProperties;
  /** AMQP content-header property bytes (flags + list); null when not encoded yet. */
  readonly encodedProperties: Buffer | null;
  readonly body: Buffer;
}

/** A logged message read back (after a restart, or paged in from disk). */
export interface RecoveredMessage {
  id: number;
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  encodedProperties: Buffer;
  body: Buffer;
  /** It had been delivered before (AMQP redelivered flag after a restart). */
  redelivered: boolean;
  /** When it entered its queue (ms since the epoch), for TTLs; 0 if the log did not record it. */
  enqueuedAt: number;
}

/** A queue's live messages after a restart: ids only, bodies stay on disk until read. */
export interface RecoveredQueue {
  /** Oldest first. */
  ids: number[];
  /** Sum of their body sizes (the queue's message_bytes). */
  bodyBytes: number;
}

/** Encodes properties to/from AMQP content-header bytes; injected so the store does not import an adapter. */
export interface PropertiesCodec {
  encode(properties: MessageProperties): Buffer;
  decode(bytes: Buffer): MessageProperties;
}

/** Tells a client its publish is safe; subject and arg are passed through so that the common path allocates no closure. */
export type DurableReply<S, A> = (subject: S, arg: A) => void;
/** The protocol's refusal when the write failed. */
export type DurableRefusal<S, A> = (subject: S, arg: A, error: Error) => void;

/** Signals durability of everything appended so far. */
export interface Durability {
  /** True while appended records are not yet on disk (or their callbacks not yet run). */
  readonly syncPending: boolean;
  /** Runs `callback` once everything appended before this call is on disk; FIFO across calls. */
  afterSync(callback: (error: Error | null) => void): void;
  /**
   * An AMQP publisher confirm (not tx.commit-ok, PUBACK or a receipt): as
   * afterSync, or earlier when every message logged since the previous call
   * was consumed on every queue before its sync, as RabbitMQ confirms ("as
   * soon as it is persisted to disk, or when it is consumed on every
   * queue"). Answers may then overtake earlier ones. Absent: afterSync.
   */
  whenDurableOrConsumed?<S, A>(subject: S, arg: A, reply: DurableReply<S, A>, refuse: DurableRefusal<S, A>): void;
}

export interface MessageLogStats {
  segments: number;
  bytesOnDisk: number;
  liveMessages: number;
}

/**
 * Append-only record of persistent messages per durable queue. Records are
 * durable once afterSync's callback runs; acks and delivery marks ride
 * along with the next sync and never delay anything.
 */
export interface MessageLog extends Durability {
  /** Everything that survived, per queue key, oldest first. Call once, before any append. */
  recover(): Map<string, RecoveredQueue>;
  /**
   * Reads live messages back, in the order given; ids no longer live or
   * unreadable (damaged file, logged) are left out. Only for messages whose
   * append is on disk (afterSync has run), or recovered ones.
   */
  read(ids: readonly number[]): RecoveredMessage[];
  /** Appends a message to a queue; returns its id. `enqueuedAt` is ms since the epoch. */
  enqueue(queueKey: string, message: StoredMessage, enqueuedAt: number): number;
  /**
   * Writes a transient message out so that its queue can drop it from
   * memory (RabbitMQ's lazy queues page transient messages too). It is
   * read back like any other, but never recovered after a restart, and its
   * delivery and removal write nothing.
   */
  pageOut(queueKey: string, message: StoredMessage, enqueuedAt: number): number;
  /** First delivery of a message: after a crash it comes back redelivered. */
  delivered(id: number): void;
  /** Acked or otherwise gone from the queue. */
  remove(id: number): void;
  /** As remove(), for a message a consumer acked (or took with no-ack): a log that confirms consumed messages early (whenDurableOrConsumed) counts it. Absent: remove(). */
  consumed?(id: number): void;
  /** The queue is gone with all its live messages. */
  deleteQueue(queueKey: string): void;
  stats(): MessageLogStats;
}

/** One definition as the replicated store keeps it: one key per entity. */
export type DefinitionEntity =
  | { kind: "user"; definition: UserDefinition }
  | { kind: "vhost"; definition: VhostDefinition }
  | { kind: "permission"; definition: PermissionDefinition }
  | { kind: "exchange"; definition: ExchangeDefinition }
  | { kind: "queue"; definition: QueueDefinition }
  | { kind: "binding"; definition: BindingDefinition }
  | { kind: "policy"; definition: Policy };

/** A change another node made: created (before null), replaced, or deleted (after null). */
export interface DefinitionChange {
  readonly before: DefinitionEntity | null;
  readonly after: DefinitionEntity | null;
}

/**
 * A store shared by several nodes (the JetStream store of a cluster):
 * definitions other nodes change arrive here, and a node's own definition
 * and MQTT state writes are durable only once a quorum acknowledged them,
 * later than the end of the microtask that made them.
 */
export interface ReplicatedState {
  /** Changes from other nodes, in the order the cluster took them, from the state loadDefinitions returned on. */
  watchDefinitions(listener: (change: DefinitionChange) => void): void;
  /** Definition and MQTT state writes: replies that report them wait for it (transport/flush-scheduler.ts). */
  readonly durability: Durability & { readonly writesBegun: number };
}

export interface Store {
  readonly kind: "memory" | "file" | "jetstream";
  /** Present when other nodes share the store. */
  readonly replicated?: ReplicatedState;
  /** The last saved definitions, or null on a fresh store. */
  loadDefinitions(): DefinitionsSnapshot | null;
  /** Durable when it returns (RabbitMQ commits definitions before replying); a replicated store: once `replicated.durability` says so. */
  saveDefinitions(snapshot: DefinitionsSnapshot): void;
  readonly messages: MessageLog;
  readonly mqtt: MqttStateStore;
  /** Waits for pending writes, then releases files. */
  close(): Promise<void>;
}

// ---- hooks the core calls --------------------------------------------------

/** The core's record of a message in a queue (QueuedMessage), as the journal sees it. */
export interface JournalEntry {
  /** The message-log id; 0 while not logged (transient message, non-durable queue). */
  logId: number;
  /** ms since the epoch; 0 when the queue does not track it (no TTL features). */
  enqueuedAt: number;
}

/**
 * Per durable queue: the core reports what happens to its messages, and
 * pages logged messages out of memory and back (queues larger than memory).
 */
export interface QueueJournal {
  /** Logs a persistent message and sets `entry.logId`. */
  enqueued(entry: JournalEntry, message: StoredMessage): void;
  /** Writes a transient message out of memory (MessageLog.pageOut) and sets `entry.logId`. */
  pageOut(entry: JournalEntry, message: StoredMessage): void;
  delivered(entry: JournalEntry): void;
  /** Gone from the queue unconsumed: expired, dropped, dead-lettered, purged. */
  removed(entry: JournalEntry): void;
  /** Gone because a consumer acked it or took it with no-ack. */
  consumed(entry: JournalEntry): void;
  deleted(): void;
  /** Ready messages the queue keeps in memory; logged ones past this wait on disk, only their id in memory. */
  readonly pageAfter: number;
  /** As Durability.afterSync: once logged records so far are on disk, they may be paged out. */
  afterSync(callback: (error: Error | null) => void): void;
  /** Reads paged-out messages back (see MessageLog.read). */
  read(ids: readonly number[]): RecoveredMessage[];
  /** Removes a paged-out message by id (purge). */
  removeId(id: number): void;
}

/**
 * Per durable `x-delayed-message` exchange: its persistent pending messages
 * live in the message log as one pseudo-queue, so a million pending cost a
 * log record each and no file of their own (the plugin's Mnesia table is its
 * known failure at that scale).
 */
export interface DelayedJournal {
  /** Logs a held message; returns its log id. `heldAt` (ms since the epoch) plus its x-delay is when it is due. */
  held(message: StoredMessage, heldAt: number): number;
  /** Routed when due (or dropped): no longer pending. */
  released(id: number): void;
  /** The exchange is gone with its pending messages. */
  deleted(): void;
  /** As Durability.afterSync: held messages appended so far may be dropped from memory and read back later. */
  afterSync(callback: (error: Error | null) => void): void;
  read(ids: readonly number[]): RecoveredMessage[];
}

/** Given to each vhost: durable definition changes and journals for durable queues. */
export interface DefinitionsObserver {
  definitionsChanged(): void;
  journalFor(vhost: string, queue: string): QueueJournal;
  /** `recover` receives the exchange's pending message ids found in the log on start (oldest first). */
  delayedJournalFor(vhost: string, exchange: string, recover: (ids: number[]) => void): DelayedJournal;
}

export const queueKey = (vhost: string, queue: string): string => `${vhost}\u0000${queue}`;

// ---- MQTT state ------------------------------------------------------------

/** One subscription of a persistent MQTT session, with its MQTT 5 options. */
export interface StoredMqttSubscription {
  /** As the client sent it, including any `$share/<group>/` prefix. */
  readonly key: string;
  readonly filter: string;
  readonly qos: 0 | 1 | 2;
  readonly group: string | null;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: number;
  readonly identifier: number | undefined;
}

/**
 * What a persistent MQTT session's queues cannot say: who owns them, the
 * subscriptions with their options, when it expires. Its queued messages are
 * in the message log with its queues.
 */
export interface StoredMqttSession {
  readonly vhost: string;
  readonly clientId: string;
  readonly expirySeconds: number;
  /** ms since the epoch; 0 while connected (after a crash the restart counts as its disconnect). */
  readonly detachedAt: number;
  readonly subscriptions: readonly StoredMqttSubscription[];
  /** [MQTT-4.3.3] QoS 2 packet ids received (PUBREC sent) and not yet released. */
  readonly inboundQos2: readonly number[];
}

/** The last retained publish of a topic. */
export interface StoredRetained {
  readonly vhost: string;
  readonly topic: string;
  readonly qos: 0 | 1 | 2;
  readonly properties: MessageProperties;
  readonly payload: Buffer;
}

export interface RecoveredMqttState {
  sessions: StoredMqttSession[];
  retained: StoredRetained[];
}

export interface MqttStateStats {
  /** Live sessions plus retained messages. */
  records: number;
  bytesOnDisk: number;
  /** Bytes written since open, compactions included: what shows a write costs O(change), not O(state). */
  bytesWritten: number;
}

/**
 * MQTT sessions and retained messages, one record per session or topic: a
 * change writes that record only, never the whole set. A put or delete is
 * durable by the end of the current microtask queue (the file store writes
 * and fsyncs then), i.e. before any reply to the input that caused it is
 * flushed to a socket (replies go out in setImmediate) — so SUBACK, PUBACK
 * and PUBREC follow the state they report.
 */
export interface MqttStateStore {
  /** What the last run left. Call once, before any put or delete. */
  recover(): RecoveredMqttState;
  /** Replaces the session of that vhost and client id. */
  putSession(session: StoredMqttSession): void;
  deleteSession(vhost: string, clientId: string): void;
  /** Replaces the retained message of that vhost and topic. */
  putRetained(message: StoredRetained): void;
  deleteRetained(vhost: string, topic: string): void;
  /** Writes pending changes now (shutdown; the file store does it by itself in a microtask). */
  flush(): void;
  stats(): MqttStateStats;
  /**
   * Changes other cluster nodes make from the state recover() returned on
   * (a client moving its session to another node, a retained publish
   * there); absent from a single node's stores. Call once, after recover().
   */
  watch?(listener: (change: MqttStateChange) => void): void;
}

/** A session or retained message replaced (or, with null, deleted) by another cluster node. */
export type MqttStateChange =
  | {
      readonly kind: "session";
      readonly vhost: string;
      readonly clientId: string;
      readonly session: StoredMqttSession | null;
    }
  | {
      readonly kind: "retained";
      readonly vhost: string;
      readonly topic: string;
      readonly retained: StoredRetained | null;
    };
