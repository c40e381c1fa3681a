import { CoreError } from "../core/errors.js";
import type { OffsetSpec } from "../core/stream/consumer-options.js";
import type { FrameReader } from "./frame-io.js";
import { OffsetType } from "./protocol.js";

/** An offset specification as Subscribe and the ConsumerUpdate response carry it: type u16, then a u64/i64 for offset/timestamp. */
export function readOffsetSpec(frame: FrameReader): OffsetSpec {
  const type = frame.u16();
  switch (type) {
    case OffsetType.First:
      return { kind: "first" };
    case OffsetType.Last:
      return { kind: "last" };
    case OffsetType.Next:
      return { kind: "next" };
    case OffsetType.Offset:
      return { kind: "offset", offset: Number(frame.u64()) };
    case OffsetType.Timestamp:
      return { kind: "timestamp", at: Number(frame.i64()) };
    default:
      throw new CoreError("precondition-failed", `unknown offset type ${type}`);
  }
}
