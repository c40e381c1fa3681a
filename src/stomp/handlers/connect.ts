import { CoreError } from "../../core/errors.js";
import { certificateLoginUser } from "../../transport/peer-certificate.js";
import type { StompConnection } from "../connection.js";
import { StompError } from "../errors.js";
import { SUPPORTED_VERSIONS, type StompFrame, type StompVersion } from "../frame.js";

/** RabbitMQ's STOMP defaults: a CONNECT without login uses default_user guest/guest, and default_vhost "/". */
const DEFAULT_LOGIN = "guest";
const DEFAULT_PASSCODE = "guest";
const DEFAULT_VHOST = "/";

/** CONNECT / STOMP: version negotiation, login, vhost from `host`, heart-beats, CONNECTED. */
export function handleConnect(connection: StompConnection, frame: StompFrame): void {
  if (connection.state !== "awaiting-connect") {
    // RabbitMQ drops a session that sends CONNECT twice, without an ERROR.
    connection.transport.end();
    connection.state = "closing";
    return;
  }
  const version = negotiateVersion(frame.headers.get("accept-version"));
  if (version === null) {
    throw new StompError("Version mismatch", `Supported versions are ${SUPPORTED_VERSIONS.join(",")}\n`);
  }
  const heartbeat = parseHeartbeat(frame.headers.get("heart-beat"));
  // stomp.ssl_cert_login: no passcode and a verified client certificate → the certificate's CN is the user.
  const certUser =
    frame.headers.get("passcode") === undefined ? certificateLoginUser(connection.transport.socket) : null;
  const login = certUser ?? frame.headers.get("login") ?? DEFAULT_LOGIN;
  const passcode = frame.headers.get("passcode") ?? DEFAULT_PASSCODE;
  // RabbitMQ takes the host header as the vhost name as it is (Spring's relay sends the virtual host there).
  const vhostName = frame.headers.get("host") ?? DEFAULT_VHOST;
  const waitMs = connection.ctx.broker.failedLogins.admit(connection.remoteAddress);
  const finish = (): void =>
    checkLogin(connection, { version, heartbeat, login, passcode, vhostName, byCertificate: certUser !== null });
  // After failed logins from the address, the credentials are checked only after its delay (issue 11).
  if (waitMs === 0) finish();
  else connection.deferLogin(waitMs, finish);
}

interface ConnectRequest {
  version: StompVersion;
  heartbeat: [number, number];
  login: string;
  passcode: string;
  vhostName: string;
  /** Logged in by its TLS client certificate (no passcode). */
  byCertificate: boolean;
}

function checkLogin(
  connection: StompConnection,
  { version, heartbeat, login, passcode, vhostName, byCertificate }: ConnectRequest,
): void {
  const { broker, logger } = connection.ctx;
  const remote = { address: connection.remoteAddress };
  const auth = byCertificate
    ? broker.users.authenticateWithoutPassword(login, remote)
    : broker.users.authenticate(login, passcode, remote);
  if (!auth.ok) {
    broker.failedLogins.failed(connection.remoteAddress, { protocol: "stomp", user: login, reason: auth.reason });
    // RabbitMQ 3.10 keeps the session open for another CONNECT (observed), which let one
    // connection try 1,000 passwords (issue 11); STOMP 1.2 (CONNECT) says the server
    // SHOULD send ERROR "and then close the connection", which Warren does.
    throw new StompError("Bad CONNECT", `Access refused for user '${login}'\n`, true);
  }
  broker.failedLogins.succeeded(connection.remoteAddress);
  let opened;
  try {
    opened = broker.openVhost(login, vhostName);
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    logger.warn({ connection: connection.id, user: login, vhost: vhostName }, "STOMP vhost access refused");
    throw new StompError("Bad CONNECT", `Virtual host '${vhostName}' access denied`);
  }
  connection.opened(opened.vhost, opened.access, login, version);
  // The server sends as often as the client wants to receive and expects what the client offers to send.
  const [clientSends, clientWants] = heartbeat;
  connection.writer.frame(
    "CONNECTED",
    [
      ["server", connection.ctx.serverName],
      ["session", connection.sessionId],
      ["heart-beat", `${clientWants},${clientSends}`],
      ["version", version],
    ],
    null,
  );
  connection.markDirty();
  connection.startHeartbeats(clientWants, clientSends);
}

/** The highest version both sides speak; a frame without accept-version is STOMP 1.0. */
function negotiateVersion(header: string | undefined): StompVersion | null {
  if (header === undefined) return "1.0";
  const offered = new Set(header.split(",").map((v) => v.trim()));
  for (let i = SUPPORTED_VERSIONS.length - 1; i >= 0; i--) {
    const version = SUPPORTED_VERSIONS[i] as StompVersion;
    if (offered.has(version)) return version;
  }
  return null;
}

function parseHeartbeat(header: string | undefined): [number, number] {
  if (header === undefined) return [0, 0];
  const match = /^\s*([0-9]+)\s*,\s*([0-9]+)\s*$/.exec(header);
  if (!match)
    throw new StompError("Invalid heart-beat header", `'${header}' is not of the form <send-ms>,<receive-ms>\n`);
  return [Number(match[1]), Number(match[2])];
}
