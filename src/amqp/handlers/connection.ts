import { parsePlain } from "../../auth/sasl.js";
import type { AuthResult } from "../../auth/users.js";
import { certificateLoginUser } from "../../transport/peer-certificate.js";
import { CoreError } from "../../core/errors.js";
import type { FieldTable } from "../../core/message.js";
import * as M from "../codec/generated.js";
import { decodeTableBody } from "../codec/field-table.js";
import type { AmqpConnection } from "../connection.js";
import { AmqpError, REPLY } from "../reply-codes.js";
import { serverProperties } from "../server-properties.js";

const { FRAME_MIN_SIZE } = M;

export function sendConnectionStart(connection: AmqpConnection): void {
  M.writeConnectionStart(connection.writer, 0, {
    versionMajor: 0,
    versionMinor: 9,
    serverProperties: serverProperties(),
    // EXTERNAL (rabbitmq_auth_mechanism_ssl) only where a verified client certificate names the user.
    mechanisms: certificateLoginUser(connection.socket) !== null ? "PLAIN AMQPLAIN EXTERNAL" : "PLAIN AMQPLAIN",
    locales: "en_US",
  });
  connection.markDirty();
}

/** Methods of class connection (channel 0): the handshake and the close. */
export function handleConnectionMethod(connection: AmqpConnection, method: M.AmqpMethod): void {
  const expected = EXPECTED[connection.state];
  if (method.method === M.CONNECTION_CLOSE && connection.state !== "awaiting-header") {
    connection.clientClosed();
    return;
  }
  if (method.method === M.CONNECTION_CLOSE_OK && connection.state === "closing") {
    connection.closeOkReceived();
    return;
  }
  if (connection.state === "closing") return;
  if (expected !== undefined && method.method !== expected) {
    throw new AmqpError(
      REPLY.COMMAND_INVALID,
      `expected '${M.methodName(expected)}', got '${M.methodName(method.method)}'`,
    );
  }
  switch (method.method) {
    case M.CONNECTION_START_OK:
      return startOk(connection, method);
    case M.CONNECTION_TUNE_OK:
      return tuneOk(connection, method);
    case M.CONNECTION_OPEN:
      return open(connection, method);
    case M.CONNECTION_UPDATE_SECRET:
      M.writeConnectionUpdateSecretOk(connection.writer, 0, {});
      connection.markDirty();
      return;
    case M.CONNECTION_BLOCKED:
    case M.CONNECTION_UNBLOCKED:
      return; // client-sent blocked notifications carry no meaning for a server
    default:
      throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}' on channel 0`);
  }
}

const EXPECTED: Partial<Record<AmqpConnection["state"], number>> = {
  "awaiting-start-ok": M.CONNECTION_START_OK,
  "awaiting-tune-ok": M.CONNECTION_TUNE_OK,
  "awaiting-open": M.CONNECTION_OPEN,
};

/**
 * After failed logins from the client's address its credentials are checked
 * only after the address's delay (FailedLogins.admit); the response is copied,
 * since it may lie in the frame reader's reusable buffer.
 */
function startOk(connection: AmqpConnection, method: M.ConnectionStartOk): void {
  const waitMs = connection.broker.failedLogins.admit(connection.remoteAddress);
  if (waitMs === 0) return checkStartOk(connection, method);
  const held: M.ConnectionStartOk = { ...method, response: Buffer.from(method.response) };
  connection.deferLogin(waitMs, () => checkStartOk(connection, held));
}

function checkStartOk(connection: AmqpConnection, method: M.ConnectionStartOk): void {
  connection.clientProperties = method.clientProperties;
  const capabilities = method.clientProperties["capabilities"];
  if (
    capabilities &&
    typeof capabilities === "object" &&
    !Array.isArray(capabilities) &&
    !Buffer.isBuffer(capabilities)
  ) {
    const caps = capabilities as FieldTable;
    connection.consumerCancelNotify = caps["consumer_cancel_notify"] === true;
    connection.blockedNotify = caps["connection.blocked"] === true;
    connection.authFailureClose = caps["authentication_failure_close"] === true;
  }
  connection.authMechanism = method.mechanism;
  const result = login(connection, method.mechanism, method.response);
  if (result === null) {
    // rabbit_reader refuses a mechanism it did not offer (EXTERNAL without a verified certificate, or one
    // it does not know) with command_invalid "invalid authentication mechanism", which before
    // connection.tune it never sends: the socket closes silently after 3 s, whatever the capabilities
    // (observed on RabbitMQ 3.10). Not a failed login: no credentials were tried.
    connection.ctx.logger.info(
      { connection: connection.id, remoteAddress: connection.remoteAddress, mechanism: method.mechanism },
      "closing AMQP connection: authentication mechanism not offered",
    );
    connection.closeSilently();
    return;
  }
  const failedLogins = connection.broker.failedLogins;
  if (!result.ok) {
    // The user name is in the reason (the internal backend's texts name it).
    failedLogins.failed(connection.remoteAddress, { protocol: "amqp", user: "", reason: result.reason });
    connection.refuseLogin(
      `Login was refused using authentication mechanism ${method.mechanism}. For details see the broker logfile.`,
    );
    return;
  }
  failedLogins.succeeded(connection.remoteAddress);
  connection.user = result.user.name;
  connection.state = "awaiting-tune-ok";
  M.writeConnectionTune(connection.writer, 0, {
    channelMax: connection.channelMax,
    frameMax: connection.frameMax,
    heartbeat: connection.ctx.limits.heartbeat,
  });
  connection.markDirty();
}

/** The login's outcome, or null for a mechanism that was not offered. */
function login(connection: AmqpConnection, mechanism: string, response: Buffer): AuthResult | null {
  const remote = { address: connection.remoteAddress };
  if (mechanism === "EXTERNAL") {
    // The certificate is the credential; the response (an authzid) is ignored, as rabbit_auth_mechanism_ssl does.
    const user = certificateLoginUser(connection.socket);
    if (user === null) return null;
    return connection.broker.users.authenticateWithoutPassword(user, remote);
  }
  if (mechanism !== "PLAIN" && mechanism !== "AMQPLAIN") return null;
  const credentials = parseCredentials(mechanism, response);
  if (!credentials) return { ok: false, reason: "malformed credentials" };
  return connection.broker.users.authenticate(credentials.username, credentials.password, remote);
}

function parseCredentials(
  mechanism: "PLAIN" | "AMQPLAIN",
  response: Buffer,
): { username: string; password: string } | null {
  if (mechanism === "PLAIN") return parsePlain(response);
  // AMQPLAIN's response is a field table without its length prefix.
  const table = decodeTableBody(response, 0, response.length);
  const username = table["LOGIN"];
  const password = table["PASSWORD"];
  return typeof username === "string" && typeof password === "string" ? { username, password } : null;
}

function tuneOk(connection: AmqpConnection, method: M.ConnectionTuneOk): void {
  const serverFrameMax = connection.ctx.limits.frameMax;
  const frameMax = method.frameMax === 0 ? serverFrameMax : method.frameMax;
  if (frameMax < FRAME_MIN_SIZE) {
    throw new AmqpError(REPLY.NOT_ALLOWED, `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`);
  }
  if (frameMax > serverFrameMax) {
    throw new AmqpError(REPLY.NOT_ALLOWED, `frame_max=${frameMax} > ${serverFrameMax} max size`);
  }
  const serverChannelMax = connection.ctx.limits.channelMax;
  const channelMax = method.channelMax === 0 ? serverChannelMax : method.channelMax;
  if (channelMax > serverChannelMax) {
    throw new AmqpError(REPLY.NOT_ALLOWED, `channel_max=${channelMax} > ${serverChannelMax} max size`);
  }
  connection.frameMax = frameMax;
  connection.channelMax = channelMax;
  connection.setReaderFrameMax(frameMax);
  connection.startHeartbeat(method.heartbeat);
  connection.state = "awaiting-open";
}

function open(connection: AmqpConnection, method: M.ConnectionOpen): void {
  let opened: ReturnType<typeof connection.broker.openVhost>;
  try {
    opened = connection.broker.openVhost(connection.user, method.virtualHost);
  } catch (error) {
    if (error instanceof CoreError) throw new AmqpError(REPLY.NOT_ALLOWED, error.message);
    throw error;
  }
  // open-ok first: opened() may send connection.blocked (an alarm is on), which clients expect only after open-ok.
  M.writeConnectionOpenOk(connection.writer, 0, { reserved1: "" });
  connection.opened(opened.vhost, opened.access);
  connection.markDirty();
}
