/** What the message-log unit tests write: AMQP's properties codec and a persistent message to queue "q". */
import { decodeProperties, encodeProperties } from "../../src/amqp/codec/properties.js";
import type { PropertiesCodec, StoredMessage } from "../../src/store/types.js";

export const propertiesCodec: PropertiesCodec = {
  encode: encodeProperties,
  decode: (b) => decodeProperties(b, 0, b.length),
};

export const storedMessage = (body: string): StoredMessage => ({
  exchange: "",
  routingKey: "q",
  properties: { deliveryMode: 2 },
  encodedProperties: null,
  body: Buffer.from(body),
});
