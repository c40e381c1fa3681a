/**
 * Message counters of one channel (AMQP) or session (MQTT, STOMP), as
 * RabbitMQ's channel stats count them (rabbit_channel: publish, confirm,
 * return_unroutable, drop_unroutable, deliver, deliver_no_ack, get,
 * get_no_ack, redeliver, ack). Plain integer fields: adapters bump them on
 * the per-message path, the management API reads them when asked.
 */
export class ChannelStats {
  publish = 0;
  confirm = 0;
  returnUnroutable = 0;
  dropUnroutable = 0;
  /** Deliveries to consumers that must ack. */
  deliver = 0;
  deliverNoAck = 0;
  get = 0;
  getNoAck = 0;
  /** basic.get on an empty queue. */
  getEmpty = 0;
  redeliver = 0;
  ack = 0;
  /** On a broker-wide total: how many channels were folded into it (rabbitmq_channels_closed_total). */
  folded = 0;

  /** RabbitMQ's deliver_get: every message handed out, whatever the mode. */
  get deliverGet(): number {
    return this.deliver + this.deliverNoAck + this.get + this.getNoAck;
  }

  /** Counts a delivery to a consumer (`get` false) or a basic.get answer. */
  delivered(get: boolean, noAck: boolean, redelivered: boolean): void {
    if (get) noAck ? this.getNoAck++ : this.get++;
    else noAck ? this.deliverNoAck++ : this.deliver++;
    if (redelivered) this.redeliver++;
  }

  /** Folds a closing channel's counters into a broker-wide total, so that totals never go backwards. */
  addTo(total: ChannelStats): void {
    total.publish += this.publish;
    total.confirm += this.confirm;
    total.returnUnroutable += this.returnUnroutable;
    total.dropUnroutable += this.dropUnroutable;
    total.deliver += this.deliver;
    total.deliverNoAck += this.deliverNoAck;
    total.get += this.get;
    total.getNoAck += this.getNoAck;
    total.getEmpty += this.getEmpty;
    total.redeliver += this.redeliver;
    total.ack += this.ack;
    total.folded += this.folded + 1;
  }
}
