import assert from "node:assert/strict";
import { test } from "node:test";
import { dataSectionAt, dataSectionBody, decodeAmqp10, encodeAmqp10Head } from "../../src/stream/amqp10-message.js";

// dataSectionAt decides when a stream-protocol publish may reuse the last message's decoded
// properties: only for property sections followed by one data section, nothing else.

/** A data section with a binary8 body (up to 255 bytes). */
const data = (body: Buffer): Buffer => Buffer.concat([Buffer.from([0x00, 0x53, 0x75, 0xa0, body.length]), body]);

test("a data section alone, and properties then a data section, are split at the data section", () => {
  assert.equal(dataSectionAt(data(Buffer.from("hi"))), 0);
  const head = encodeAmqp10Head({ messageId: "m-1", contentType: "text/plain", headers: { kind: "a", n: 7 } });
  const message = Buffer.concat([head, data(Buffer.from("body"))]);
  assert.equal(dataSectionAt(message), head.length);
  assert.equal(dataSectionBody(message, head.length).toString(), "body");
  assert.equal(decodeAmqp10(message, "s").properties.messageId, "m-1");
});

test("a 300-byte body (binary32) is found and viewed whole", () => {
  const body = Buffer.alloc(300, 7);
  const section = Buffer.concat([Buffer.from([0x00, 0x53, 0x75, 0xb0]), Buffer.alloc(4), body]);
  section.writeUInt32BE(300, 4);
  assert.equal(dataSectionAt(section), 0);
  assert.deepEqual(dataSectionBody(section, 0), body);
});

test("other shapes are not split: two data sections, an amqp-value, a footer after the body, a truncated section", () => {
  const one = data(Buffer.from("a"));
  assert.equal(dataSectionAt(Buffer.concat([one, one])), -1);
  const amqpValue = Buffer.from([0x00, 0x53, 0x77, 0xa1, 0x02, 0x68, 0x69]);
  assert.equal(dataSectionAt(amqpValue), -1);
  const footer = Buffer.from([0x00, 0x53, 0x78, 0xc1, 0x01, 0x00]);
  assert.equal(dataSectionAt(Buffer.concat([one, footer])), -1);
  assert.equal(dataSectionAt(one.subarray(0, one.length - 1)), -1);
  assert.equal(dataSectionAt(Buffer.from([0x00, 0x53, 0x75, 0xb0, 0x00])), -1);
  assert.equal(dataSectionAt(Buffer.alloc(0)), -1);
});
