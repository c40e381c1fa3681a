/**
 * Names (vhosts, queues, users, topics: any UTF-8, dots and wildcards
 * included) as NATS subject tokens and KV key tokens: "k" + base64url, so
 * the empty name has a token too and `.`, `*`, `>` and spaces never reach a
 * subject. Reversible, so a stream's subjects name their queues again.
 */
export const toToken = (name: string): string => `k${Buffer.from(name, "utf8").toString("base64url")}`;

export const fromToken = (token: string): string => Buffer.from(token.slice(1), "base64url").toString("utf8");

/** FNV-1a over the UTF-16 units: a stable spread of queues over the partition streams. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
