import type { Access } from "../../core/access.js";
import type { VHost } from "../../core/vhost.js";
import type { Channel } from "../channel.js";

/** What every channel method needs: the open vhost, the user's permissions in it, and who asks. */
export function session(channel: Channel): { vhost: VHost; access: Access; connectionId: number } {
  const connection = channel.connection;
  // Channels exist only on open connections, which always have both.
  return { vhost: connection.vhostRef as VHost, access: connection.access as Access, connectionId: connection.id };
}
