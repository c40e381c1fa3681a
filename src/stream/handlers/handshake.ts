import { packageVersion } from "../../version.js";
import type { StreamConnection } from "../connection.js";
import { FrameBuilder, type FrameReader } from "../frame-io.js";
import { COMMAND_VERSIONS, Code, Command, RESPONSE } from "../protocol.js";

/**
 * RabbitMQ 3.13's version string: the stream clients turn on what newer
 * servers have (filtering, super streams, Deliver v2) by comparing it
 * with "3.13.0", and Warren speaks those.
 */
const ANNOUNCED_VERSION = "3.13.0";
const TUNE_DELAY_MS = 10;

/** Connection-level commands: peer properties, SASL, tune, open, close, heartbeat, command versions. */
export function handleHandshake(connection: StreamConnection, key: number, frame: FrameReader): boolean {
  switch (key) {
    case Command.PeerProperties: {
      const correlationId = frame.u32();
      connection.clientProperties = Object.fromEntries(frame.map());
      connection.send(
        connection.respond(key, correlationId, Code.Ok).map([
          ["product", "RabbitMQ"],
          ["version", ANNOUNCED_VERSION],
          ["platform", `Warren ${packageVersion()} on Node.js ${process.version}`],
          ["copyright", "Warren"],
          ["information", "Warren, a RabbitMQ-compatible broker"],
        ]),
      );
      return true;
    }
    case Command.SaslHandshake:
      connection.send(connection.respond(key, frame.u32(), Code.Ok).i32(1).string("PLAIN"));
      return true;
    case Command.SaslAuthenticate:
      authenticate(connection, frame);
      return true;
    case Command.Tune:
      // The client's answer to our Tune: it may lower frame max (Warren keeps its own limit) and sets the heartbeat.
      frame.u32();
      connection.startHeartbeat(frame.u32());
      return true;
    case Command.Open:
      open(connection, frame);
      return true;
    case Command.Close: {
      const correlationId = frame.u32();
      connection.send(connection.respond(key, correlationId, Code.Ok));
      connection.clientClosed();
      return true;
    }
    case Command.Close | RESPONSE:
      connection.socket.end();
      return true;
    case Command.Heartbeat:
      return true;
    case Command.ExchangeCommandVersions: {
      const correlationId = frame.u32();
      const count = frame.i32();
      for (let i = 0; i < count; i++) {
        const command = frame.u16();
        frame.u16();
        const max = frame.u16();
        if (command === Command.Deliver && max >= 2) connection.deliverVersion = 2;
      }
      const response = connection.respond(key, correlationId, Code.Ok).i32(COMMAND_VERSIONS.length);
      for (const [command, min, max] of COMMAND_VERSIONS) response.u16(command).u16(min).u16(max);
      connection.send(response);
      return true;
    }
    default:
      return false;
  }
}

/** PLAIN: `\0user\0password`; then the server's Tune, as RabbitMQ sends it after a successful authentication. */
function authenticate(connection: StreamConnection, frame: FrameReader): void {
  const correlationId = frame.u32();
  const mechanism = frame.string();
  const opaque = frame.bytes();
  if (mechanism !== "PLAIN") {
    connection.send(connection.respond(Command.SaslAuthenticate, correlationId, Code.SaslMechanismNotSupported));
    return;
  }
  const [, user = "", password = ""] = opaque.toString("utf8").split("\u0000");
  const { broker } = connection.ctx;
  const result = broker.users.authenticate(user, password, { address: connection.remoteAddress });
  if (!result.ok) {
    broker.failedLogins.failed(connection.remoteAddress, { protocol: "stream", user, reason: result.reason });
    connection.ctx.logger.warn({ remote: connection.remoteAddress, user }, "stream connection authentication failed");
    connection.send(connection.respond(Command.SaslAuthenticate, correlationId, Code.AuthenticationFailure));
    return;
  }
  broker.failedLogins.succeeded(connection.remoteAddress);
  connection.login = user;
  connection.send(connection.respond(Command.SaslAuthenticate, correlationId, Code.Ok));
  // Tune goes in a later write: rabbitmq-stream-js-client 1.0 starts waiting for it only after
  // it has handled the authenticate response, and loses a Tune read in the same chunk (it then
  // hangs in connect; seen with both frames in one write). RabbitMQ's reader process sends it later too.
  setTimeout(
    () => connection.send(new FrameBuilder(Command.Tune).u32(connection.ctx.frameMax).u32(connection.ctx.heartbeat)),
    TUNE_DELAY_MS,
  );
}

function open(connection: StreamConnection, frame: FrameReader): void {
  const correlationId = frame.u32();
  const vhostName = frame.string();
  if (connection.login === null) {
    connection.send(connection.respond(Command.Open, correlationId, Code.AuthenticationFailure));
    return;
  }
  try {
    const opened = connection.ctx.broker.openVhost(connection.login, vhostName);
    connection.opened(opened.vhost, opened.access);
  } catch (error) {
    connection.codeOf(error);
    connection.send(connection.respond(Command.Open, correlationId, Code.VirtualHostAccessFailure));
    return;
  }
  connection.send(
    connection.respond(Command.Open, correlationId, Code.Ok).map([
      ["advertised_host", connection.ctx.advertisedHost],
      ["advertised_port", String(connection.ctx.advertisedPort)],
    ]),
  );
}
