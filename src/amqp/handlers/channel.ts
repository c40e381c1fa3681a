import type { Channel } from "../channel.js";
import * as M from "../codec/generated.js";
import { AmqpError, REPLY } from "../reply-codes.js";

export function handleChannelMethod(channel: Channel, method: M.AmqpMethod): void {
  const writer = channel.connection.writer;
  switch (method.method) {
    case M.CHANNEL_OPEN:
      throw new AmqpError(REPLY.CHANNEL_ERROR, "second 'channel.open' seen");
    case M.CHANNEL_FLOW:
      // RabbitMQ no longer lets clients stop deliveries with flow: basic.qos does that job.
      if (!method.active) throw new AmqpError(REPLY.NOT_IMPLEMENTED, "active=false");
      M.writeChannelFlowOk(writer, channel.id, { active: true });
      break;
    case M.CHANNEL_FLOW_OK:
      break;
    case M.CHANNEL_CLOSE:
      channel.release();
      channel.connection.closeChannelSlot(channel.id);
      M.writeChannelCloseOk(writer, channel.id, {});
      break;
    case M.CHANNEL_CLOSE_OK:
      // Only meaningful while we are closing, which Channel.onFrame handles.
      break;
    default:
      throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}'`);
  }
  channel.connection.markDirty();
}
