import { test } from "node:test";
import assert from "node:assert/strict";
import { TypedField, type MessageProperties } from "../../src/core/message.js";
import { BufferWriter } from "../../src/amqp/codec/buffer-writer.js";
import { DeliverTemplate } from "../../src/amqp/codec/deliver.js";
import { FrameReader, type FrameSink } from "../../src/amqp/codec/frame-reader.js";
import * as M from "../../src/amqp/codec/generated.js";
import {
  decodeProperties,
  encodeProperties,
  writeBodyFrames,
  writeContentHeaderFrame,
} from "../../src/amqp/codec/properties.js";

// The delivery path's hand-written encoder (codec/deliver.ts) against the
// generated codec: for the same delivery both must write the same bytes,
// whatever the consumer tag, exchange, routing key, property set, body size
// and frame_max, and whatever the template held from the previous delivery.

interface Delivery {
  consumerTag: string;
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  body: Buffer;
}

function generated(channel: number, d: Delivery, frameMax: number): Buffer {
  const w = new BufferWriter(64);
  const { consumerTag, deliveryTag, redelivered, exchange, routingKey } = d;
  M.writeBasicDeliver(w, channel, { consumerTag, deliveryTag, redelivered, exchange, routingKey });
  writeContentHeaderFrame(w, channel, 60, d.body.length, encodeProperties(d.properties));
  writeBodyFrames(w, channel, d.body, frameMax);
  return Buffer.from(w.take());
}

function templated(template: DeliverTemplate, d: Delivery, frameMax: number, w = new BufferWriter(64)): Buffer {
  const properties = encodeProperties(d.properties);
  template.write(w, d.deliveryTag, d.redelivered, d.exchange, d.routingKey, properties, d.body, frameMax);
  return Buffer.from(w.take());
}

const PROPERTY_SETS: MessageProperties[] = [
  {},
  { deliveryMode: 1 },
  { deliveryMode: 2, priority: 9, contentType: "application/json" },
  {
    contentType: "text/plain",
    contentEncoding: "gzip",
    headers: { a: 1, b: "two", c: [1, "x"], d: { nested: true }, t: new TypedField("T", 1_700_000_000), n: null },
    deliveryMode: 2,
    priority: 0,
    correlationId: "c-1",
    replyTo: "amq.rabbitmq.reply-to.x",
    expiration: "60000",
    messageId: "m-ü",
    timestamp: 1_700_000_000,
    type: "kind",
    userId: "guest",
    appId: "app",
    clusterId: "",
  },
  { headers: {} },
  { clusterId: "only the last flag" },
];

const BODY_SIZES = [0, 1, 16, 64, 65, 256, 4088, 4089, 10_000];

test("DeliverTemplate writes what the generated codec writes, for every property set, body size and frame_max", () => {
  for (const frameMax of [0, 4096, 131072]) {
    for (const properties of PROPERTY_SETS) {
      for (const size of BODY_SIZES) {
        const body = Buffer.alloc(size);
        for (let i = 0; i < size; i++) body[i] = (i * 7 + size) & 0xff;
        const d: Delivery = {
          consumerTag: "amq.ctag-abc",
          deliveryTag: 42,
          redelivered: size % 2 === 1,
          exchange: "ex",
          routingKey: "rk",
          properties,
          body,
        };
        const template = new DeliverTemplate(7, d.consumerTag);
        const label = `frameMax ${frameMax}, body ${size}, properties ${JSON.stringify(Object.keys(properties))}`;
        assert.deepEqual(templated(template, d, frameMax), generated(7, d, frameMax), label);
        // again through the same template (the copy path, not the build)
        const again = { ...d, deliveryTag: d.deliveryTag + 1, redelivered: !d.redelivered };
        assert.deepEqual(templated(template, again, frameMax), generated(7, again, frameMax), `${label}, second`);
      }
    }
  }
});

test("one template follows changes of exchange, routing key and properties between deliveries", () => {
  const template = new DeliverTemplate(65535, "ü-tag");
  const steps: Array<Partial<Delivery>> = [
    { exchange: "", routingKey: "q" },
    { exchange: "", routingKey: "q" },
    { exchange: "amq.topic", routingKey: "a.b.c" },
    { exchange: "amq.topic", routingKey: "a.b.c", properties: { deliveryMode: 2 } },
    { exchange: "amq.topic", routingKey: "a.b.d", properties: { deliveryMode: 2 } },
    { exchange: "é".repeat(100), routingKey: "x".repeat(255), properties: { headers: { k: "v" } } },
    { exchange: "", routingKey: "", properties: {} },
  ];
  let tag = 2 ** 40; // delivery tags past 32 bits keep both words
  const w = new BufferWriter(64);
  for (const step of steps) {
    const d: Delivery = {
      consumerTag: "ü-tag",
      deliveryTag: tag++,
      redelivered: false,
      exchange: "",
      routingKey: "",
      properties: { deliveryMode: 1 },
      body: Buffer.from("hello"),
      ...step,
    };
    assert.deepEqual(templated(template, d, 131072, w), generated(65535, d, 131072), JSON.stringify(step));
  }
});

test("equal property bytes in another Buffer keep the template; different bytes of the same length rebuild it", () => {
  const template = new DeliverTemplate(1, "c");
  const w = new BufferWriter(64);
  const body = Buffer.from("x");
  const write = (properties: Buffer): Buffer => {
    template.write(w, 1, false, "e", "k", properties, body, 0);
    return Buffer.from(w.take());
  };
  const first = encodeProperties({ priority: 1 });
  const same = Buffer.from(first);
  const other = encodeProperties({ priority: 2 });
  assert.equal(other.length, first.length);
  const decoded = (frames: Buffer): MessageProperties => {
    let properties: MessageProperties | null = null;
    const sink: FrameSink = {
      onProtocolHeader: () => {},
      onFrame: (type, _channel, buf, start, end) => {
        if (type === M.FRAME_HEADER) properties = decodeProperties(buf, start + 12, end);
      },
      onFrameError: (code, text) => assert.fail(`${code} ${text}`),
    };
    const reader = new FrameReader(sink);
    reader.push(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
    // one octet at a time: every frame boundary falls mid-chunk at some point
    for (let i = 0; i < frames.length; i++) reader.push(frames.subarray(i, i + 1));
    return properties ?? assert.fail("no content header");
  };
  assert.deepEqual(decoded(write(first)), { priority: 1 });
  assert.deepEqual(decoded(write(same)), { priority: 1 });
  assert.deepEqual(decoded(write(other)), { priority: 2 });
  assert.deepEqual(decoded(write(first)), { priority: 1 });
});
