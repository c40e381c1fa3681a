/** The AMQP 0-9-1 codec: frames, methods, content headers and field tables. */
export * from "./generated.js";
export { AmqpCodecError } from "./errors.js";
export { BufferWriter } from "./buffer-writer.js";
export { decodeFieldValue, decodeTable, decodeTableBody, encodeFieldValue, encodeTable } from "./field-table.js";
export {
  FRAME_OVERHEAD,
  decodeProperties,
  encodeProperties,
  readContentHeader,
  writeBodyFrames,
  writeContentHeaderFrame,
  writeContentHeaderFrameWithProperties,
  writeHeartbeatFrame,
  writeProperties,
  type ContentHeader,
} from "./properties.js";
export { AMQP_PROTOCOL_HEADER, DEFAULT_FRAME_MAX, FrameReader, type FrameSink } from "./frame-reader.js";
