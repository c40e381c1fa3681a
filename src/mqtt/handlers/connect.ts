import { randomBytes } from "node:crypto";
import type { IConnackPacket, IConnectPacket } from "mqtt-packet";
import { CoreError } from "../../core/errors.js";
import { certificateLoginUser } from "../../transport/peer-certificate.js";
import type { MqttConnection } from "../connection.js";
import { runAfterPause } from "../../transport/deferred-login.js";
import { OutboundTopicAliases } from "../outbound-aliases.js";
import { connackV3, MqttProtocolError, RC, reasonForCoreError } from "../reason-codes.js";
import { MqttSession, sessionKey } from "../session.js";
import { queueNameFor } from "../subscription-queues.js";
import { isValidTopicName } from "../topics.js";

/** RabbitMQ's defaults for MQTT: vhost "/", and anonymous clients log in as guest/guest (mqtt.allow_anonymous). */
const DEFAULT_VHOST = "/";
const ANONYMOUS_USER = "guest";
const ANONYMOUS_PASSWORD = "guest";

/**
 * CONNECT: protocol level, client id, credentials (`vhost:user` usernames as
 * RabbitMQ), session takeover and resumption, then CONNACK.
 */
export function handleConnect(connection: MqttConnection, packet: IConnectPacket): void {
  // Issue 11 (brute force): after failed logins from the address, this CONNECT is handled only after its delay.
  // A second CONNECT is a protocol error [MQTT-3.1.0-2], also while the first one waits.
  if (deferred.has(connection)) throw new MqttProtocolError(RC.PROTOCOL_ERROR, "second CONNECT");
  const waitMs = connection.ctx.broker.failedLogins.admit(connection.remoteAddress);
  if (waitMs === 0) return connect(connection, packet);
  const ctx = connection.ctx;
  deferred.add(connection);
  runAfterPause(
    connection.stream,
    waitMs,
    () => connection.state === "closed",
    () => {
      deferred.delete(connection);
      try {
        connect(connection, packet);
      } catch (error) {
        // As MqttConnection.onPacket answers what a handler throws.
        if (!(error instanceof MqttProtocolError))
          ctx.logger.error({ err: error, connection: connection.id }, "internal error handling an MQTT packet");
        connection.protocolError(
          error instanceof MqttProtocolError
            ? error
            : new MqttProtocolError(RC.IMPLEMENTATION_SPECIFIC_ERROR, "internal error"),
        );
      }
    },
  );
}

/** Connections whose CONNECT waits for the failed-login delay. */
const deferred = new WeakSet<MqttConnection>();

function connect(connection: MqttConnection, packet: IConnectPacket): void {
  const ctx = connection.ctx;
  const version = packet.protocolVersion ?? 4;
  connection.protocolVersion = version;
  const v5 = version === 5;
  const refuse = (reason: number, text: string): void => {
    ctx.logger.info({ connection: connection.id, clientId: packet.clientId, reason, text }, "MQTT connection refused");
    const connack: IConnackPacket = v5
      ? { cmd: "connack", sessionPresent: false, reasonCode: reason, properties: { reasonString: text } }
      : { cmd: "connack", sessionPresent: false, returnCode: connackV3(reason) };
    connection.send(connack);
    connection.closeWithReason(reason);
  };

  let clientId = packet.clientId;
  let assigned: string | undefined;
  const clean = packet.clean !== false;
  if (clientId === "") {
    // [MQTT-3.1.3-7/8] an empty id needs clean session in 3.1.1; MQTT 5 always assigns one [MQTT-3.2.2-16].
    if (!clean && !v5) return refuse(RC.CLIENT_IDENTIFIER_NOT_VALID, "client id is empty and clean session is 0");
    clientId = assigned = `warren-${randomBytes(12).toString("base64url")}`;
  }
  connection.clientId = clientId;

  // Credentials: "vhost:user" picks the vhost (rabbit_mqtt_processor:get_vhost_username/1).
  let username = packet.username;
  const password = packet.password?.toString("utf8");
  let vhostName = DEFAULT_VHOST;
  // mqtt.ssl_cert_login: no password and a verified client certificate → the certificate's CN is the user.
  const certUser = password === undefined ? certificateLoginUser(connection.transport.socket) : null;
  if (certUser !== null) {
    username = certUser;
  } else if (username === undefined && password === undefined) {
    username = ANONYMOUS_USER;
  } else if (username === undefined || password === undefined) {
    return refuse(RC.BAD_USER_NAME_OR_PASSWORD, "username or password missing");
  }
  const colon = username.indexOf(":");
  if (colon > 0) {
    vhostName = username.slice(0, colon);
    username = username.slice(colon + 1);
  }
  const remote = { address: connection.remoteAddress };
  const auth =
    certUser !== null
      ? ctx.broker.users.authenticateWithoutPassword(username, remote)
      : ctx.broker.users.authenticate(username, password ?? ANONYMOUS_PASSWORD, remote);
  if (!auth.ok) {
    ctx.broker.failedLogins.failed(connection.remoteAddress, { protocol: "mqtt", user: username, reason: auth.reason });
    return refuse(RC.BAD_USER_NAME_OR_PASSWORD, auth.reason);
  }
  ctx.broker.failedLogins.succeeded(connection.remoteAddress);
  // RabbitMQ 3.10 answers a vhost that does not exist with "bad username or password", no access with "not authorized".
  if (!ctx.broker.vhosts.has(vhostName)) return refuse(RC.BAD_USER_NAME_OR_PASSWORD, `vhost ${vhostName} not found`);
  let opened;
  try {
    opened = ctx.broker.openVhost(username, vhostName);
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    // RabbitMQ 3.10 answers a 3.1.1 client over a connection limit with CONNACK 5 (checked on the reference node).
    const reason = !v5 && error.limit !== null ? RC.NOT_AUTHORIZED : reasonForCoreError(error);
    return refuse(reason, error.message);
  }
  connection.user = username;
  opened.access.setClientId(clientId);

  const will = packet.will;
  if (will && !isValidTopicName(will.topic)) return refuse(RC.TOPIC_NAME_INVALID, `invalid will topic '${will.topic}'`);

  // MQTT 5 states session lifetime explicitly; 3.1.1's clean session 0 gets the configured default.
  const expirySeconds = v5
    ? (packet.properties?.sessionExpiryInterval ?? 0)
    : clean
      ? 0
      : ctx.settings.sessionExpirySeconds;
  const key = sessionKey(vhostName, clientId);
  // A session another cluster node kept is taken up here (its node closes any connection still holding it).
  let session = ctx.sessions.get(key) ?? ctx.sessions.adopt(key);
  if (session?.connection) session.connection.takenOver();
  if (session && clean) {
    ctx.sessions.discard(session);
    session = undefined;
  }
  const sessionPresent = session !== undefined;
  if (session) {
    // Resumed before its will was due: the will is cancelled [MQTT-3.1.3-9].
    session.clearTimers();
    session.expirySeconds = expirySeconds;
    session.detachedAt = 0;
    ctx.sessions.changed(session);
  } else {
    session = new MqttSession(key, clientId, opened.vhost, expirySeconds);
    ctx.sessions.add(session);
  }

  if (v5) {
    const p = packet.properties;
    if (p?.receiveMaximum !== undefined) connection.outboundLimit = Math.min(p.receiveMaximum, 65535);
    if (p?.maximumPacketSize !== undefined) connection.maxOutboundPacketSize = p.maximumPacketSize;
    connection.outboundAliases = new OutboundTopicAliases(p?.topicAliasMaximum ?? 0);
  }
  connection.will = will ?? null;
  let keepAlive = packet.keepalive ?? 0;
  let serverKeepAlive: number | undefined;
  const max = ctx.settings.maxKeepAlive;
  if (v5 && max > 0 && (keepAlive === 0 || keepAlive > max)) keepAlive = serverKeepAlive = max;

  const connack: IConnackPacket = { cmd: "connack", sessionPresent };
  if (v5) {
    connack.reasonCode = RC.SUCCESS;
    connack.properties = {
      topicAliasMaximum: ctx.settings.topicAliasMaximum,
      receiveMaximum: ctx.settings.receiveMaximum,
      maximumPacketSize: ctx.settings.maxPacketSize,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
      ...(assigned !== undefined ? { assignedClientIdentifier: assigned } : {}),
      ...(serverKeepAlive !== undefined ? { serverKeepAlive } : {}),
    };
  } else connack.returnCode = 0;
  connection.send(connack);
  connection.opened(session, opened.vhost, opened.access, keepAlive);
  ctx.logger.info(
    { connection: connection.id, clientId, user: username, vhost: vhostName, sessionPresent },
    "MQTT connection accepted",
  );

  // A resumed session consumes its queues again; unacked messages were requeued and now go out with DUP=1.
  connection.resendInflight();
  for (const subscription of session.subscriptions.values()) {
    const queue = session.queues.get(queueNameFor(session, subscription));
    if (queue && !queue.deleted) connection.attachQueue(queue, subscription);
  }
}
