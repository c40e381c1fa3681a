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
    http: { name: "http", port: http, seeds: [], generate: (r) => generateHttp(r, authorization) },
  };
}
