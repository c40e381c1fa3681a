import type { IConnectPacket } from "mqtt-packet";
import type { Access } from "../core/access.js";
import type { VHost } from "../core/vhost.js";
import type { MqttContext } from "./context.js";
import { publishFromMqtt } from "./publisher.js";
import type { MqttSession } from "./session.js";

export type Will = NonNullable<IConnectPacket["will"]>;

/**
 * Publishes the will of a connection that ended without DISCONNECT
 * [MQTT-3.1.2-8], after the MQTT 5 Will Delay Interval if any; a session
 * resumed before then cancels it [MQTT-3.1.3-9].
 */
export function scheduleWill(ctx: MqttContext, session: MqttSession, vhost: VHost, access: Access, will: Will): void {
  const delay = willDelaySeconds(session, will);
  const publish = (): void => {
    session.willTimer = null;
    publishWill(ctx, session, vhost, access, will);
  };
  if (delay <= 0) return publish();
  session.willTimer = setTimeout(publish, delay * 1000);
  session.willTimer.unref();
}

/** MQTT 5's Will Delay Interval, cut to the session's expiry: the will goes at the session's end at the latest. */
const willDelaySeconds = (session: MqttSession, will: Will): number =>
  Math.min(will.properties?.willDelayInterval ?? 0, session.expirySeconds);

/**
 * The client connected to another cluster node, which holds the session
 * now: the old connection's will goes as at a takeover on one node, unless
 * delayed while the session goes on there (its resumption cancels it
 * [MQTT-3.1.3-9]); `sessionEnded` (a clean start there) sends even a
 * delayed will now.
 */
export function willAtRemoteTakeover(
  ctx: MqttContext,
  session: MqttSession,
  vhost: VHost,
  access: Access,
  will: Will,
  sessionEnded: boolean,
): void {
  if (sessionEnded || willDelaySeconds(session, will) <= 0) publishWill(ctx, session, vhost, access, will);
}

function publishWill(ctx: MqttContext, session: MqttSession, vhost: VHost, access: Access, will: Will): void {
  try {
    publishFromMqtt(ctx, vhost, access, {
      topic: will.topic,
      payload: Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload),
      qos: will.qos ?? 0,
      retain: will.retain ?? false,
      dup: false,
      properties: will.properties,
      origin: session.origins[will.retain === true ? 1 : 0],
    });
  } catch (error) {
    ctx.logger.info({ err: error, clientId: session.clientId }, "MQTT will not published");
  }
}
