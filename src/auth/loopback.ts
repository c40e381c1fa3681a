/**
 * Loopback detection for RabbitMQ's `loopback_users` rule, matching
 * rabbit_net:is_loopback/1: 127.0.0.0/8, ::1, and IPv4-mapped ::ffff:127.x.x.x
 * (how a dual-stack "::" listener reports an IPv4 localhost peer).
 */
import { BlockList, isIP } from "node:net";

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");
// BlockList matches IPv4 rules against IPv4-mapped IPv6 addresses itself,
// in every spelling (::ffff:127.0.0.1, ::ffff:7f00:1).

export function isLoopbackAddress(address: string): boolean {
  // Strip a zone id ("::1%lo") and brackets ("[::1]"), which isIP rejects.
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 0) return false;
  return loopback.check(bare, family === 4 ? "ipv4" : "ipv6");
}
