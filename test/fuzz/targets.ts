/**
 * The five things fuzzed, each with its seeds, its generator, its
 * in-process reader and the broker port its socket cases go to.
 */
import mqttPacket from "mqtt-packet";
import * as ws from "ws";
import { AmqpCodecError } from "../../src/amqp/codec/errors.js";
import { FrameReader } from "../../src/amqp/codec/frame-reader.js";
import { decodeMethod } from "../../src/amqp/codec/generated.js";
import { readContentHeader } from "../../src/amqp/codec/properties.js";
import type { RunningBroker } from "../../src/index.js";
import { StompFrameReader } from "../../src/stomp/frame-reader.js";
import { STOMP_DEFAULT_LIMITS } from "../../src/stomp/listeners.js";
import type { FuzzTarget } from "./engine.js";
import {
  generateAmqp,
  generateHttp,
  generateMqtt,
  generateStomp,
  generateWebSocket,
  webSocketHandshake,
} from "./generators.js";
import type { Random } from "./random.js";
import { captureAmqp, captureMqtt, captureStomp } from "./sessions.js";

export const FUZZ_USER = { name: "fuzzer", password: "fuzzer", tags: ["administrator"] };
export const PROTOCOLS = ["amqp", "mqtt", "stomp", "websocket", "http"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Cuts `input` in two at a random offset: readers must give the same answers however the socket cut it. */
const halves = (input: Buffer, random: Random): Buffer[] => {
  const cut = random.int(input.length + 1);
  return [input.subarray(0, cut), input.subarray(cut)];
};

/** The AMQP frame reader, with the method and content-header decoders behind it: only AmqpCodecError may be thrown. */
function readAmqp(input: Buffer, random: Random): void {
  const reader = new FrameReader({
    onProtocolHeader: () => undefined,
    onFrame: (type, _channel, buf, start, end) => {
      try {
        if (type === 1) decodeMethod(buf, start, end);
        else if (type === 2) readContentHeader(buf, start, end);
      } catch (error) {
        if (!(error instanceof AmqpCodecError)) throw error;
      }
    },
    onFrameError: () => undefined,
  });
  for (const part of halves(input, random)) reader.push(part);
}

function readStomp(input: Buffer, random: Random): void {
  const reader = new StompFrameReader(
    { onFrame: () => undefined, onFrameError: () => undefined },
    STOMP_DEFAULT_LIMITS,
  );
  reader.version = random.pick(["1.0", "1.1", "1.2"] as const);
  for (const part of halves(input, random)) reader.push(part);
}

/** mqtt-packet's parser as Warren's MQTT connection uses it: errors are events, never throws. */
function readMqtt(input: Buffer, random: Random): void {
  const parser = mqttPacket.parser({ protocolVersion: random.chance(0.5) ? 5 : 4 });
  parser.on("error", () => undefined);
  parser.on("packet", () => undefined);
  for (const part of halves(input, random)) parser.parse(part);
}

/** ws exports its frame parser at run time; @types/ws does not declare it. */
interface WsReceiver {
  on(event: "error", listener: (error: Error) => void): void;
  write(chunk: Buffer): boolean;
}
const Receiver = (ws as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => WsReceiver })
  .Receiver;

/** ws's Receiver, as the server side of Warren's WebSocket endpoints reads frames after the handshake. */
function readWebSocket(input: Buffer, random: Random): void {
  const end = input.indexOf("\r\n\r\n");
  const frames = end < 0 ? input : input.subarray(end + 4);
  const receiver = new Receiver({ isServer: true, maxPayload: 1024 * 1024 });
  receiver.on("error", () => undefined);
  for (const part of halves(frames, random)) receiver.write(part);
}

/**
 * Where an HTTP case that does not log in as the fuzzer connects from: one of
 * 64,516 loopback addresses 127.0.x.y, x and y in 1-254 (Linux routes all of
 * 127/8 to lo; 127.0.0.1 excluded), picked by a hash of the input so a case
 * replays from the same one. The failed-login delay (auth/failed-logins.ts:
 * 50 ms doubling to 3.2 s, per address) then falls on those addresses, a
 * few times each at most, not on 127.0.0.1 where the cases that log in come
 * from; otherwise every case would queue behind it and the run would
 * measure the delay, not the broker.
 */
function otherLoopbackAddress(input: Buffer): string {
  let hash = 0x811c9dc5; // FNV-1a
  for (const byte of input) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return `127.0.${1 + (hash % 254)}.${1 + ((hash >>> 16) % 254)}`;
}

/** Captures real client sessions against `broker` and builds the targets. */
export async function buildTargets(broker: RunningBroker): Promise<Record<Protocol, FuzzTarget>> {
  const ports = broker.ports;
  const amqp = await captureAmqp(ports.amqp as number);
  const mqtt4 = await captureMqtt(ports.mqtt as number, 4);
  const mqtt5 = await captureMqtt(ports.mqtt as number, 5);
  const stomp = await captureStomp(ports.stomp as number);
  const stompHandshake = webSocketHandshake("/ws/stomp", "v12.stomp, v11.stomp");
  const mqttHandshake = webSocketHandshake("/ws/mqtt", "mqtt");
  const authorization = `Basic ${Buffer.from(`${FUZZ_USER.name}:${FUZZ_USER.password}`).toString("base64")}`;
  const http = ports.http as number;
  const loggedIn = Buffer.from(`\r\nAuthorization: ${authorization}\r\n`);
  return {
    amqp: {
      name: "amqp",
      port: ports.amqp as number,
      seeds: [amqp],
      generate: (r) => generateAmqp(r, amqp),
      read: readAmqp,
    },
    mqtt: {
      name: "mqtt",
      port: ports.mqtt as number,
      seeds: [mqtt4, mqtt5],
      generate: (r) => generateMqtt(r, r.chance(0.5) ? mqtt4 : mqtt5),
      read: readMqtt,
    },
    stomp: { name: "stomp", port: ports.stomp as number, seeds: [stomp], generate: generateStomp, read: readStomp },
    websocket: {
      name: "websocket",
      port: http,
      seeds: [],
      generate: (r) =>
        r.chance(0.5)
          ? generateWebSocket(r, stompHandshake, r.chance(0.5) ? stomp : generateStomp(r))
          : generateWebSocket(
              r,
              mqttHandshake,
              r.chance(0.5) ? (r.chance(0.5) ? mqtt4 : mqtt5) : generateMqtt(r, mqtt5),
            ),
      read: readWebSocket,
    },
    http: {
      name: "http",
      port: http,
      seeds: [],
      generate: (r) => generateHttp(r, authorization),
      sourceAddress: (input) => (input.includes(loggedIn) ? undefined : otherLoopbackAddress(input)),
    },
  };
}
