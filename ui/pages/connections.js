// Connections (client-provided name, user, vhost, protocol, TLS, state, rates), a connection's page with its channels and force close, and the channels list.
import { api, confirmed, esc, rate, scoped, seg, table } from "../lib.js";

const connLink = (c) => `<a href="#connection/${seg(c.name)}">${esc(c.client_properties?.connection_name || c.user_provided_name || c.name)}</a>${c.client_properties?.connection_name ? `<br><small>${esc(c.name)}</small>` : ""}`;
const channelColumns = [
  ["Channel", (c) => esc(c.name)], ["User", (c) => esc(c.user)], ["Virtual host", (c) => esc(c.vhost)],
  ["Mode", (c) => [c.confirm ? "C" : "", c.transactional ? "T" : ""].join(" ").trim() || "—"],
  ["State", (c) => esc(c.state)], ["Prefetch", (c) => esc(c.prefetch_count)], ["Unacked", (c) => esc(c.messages_unacknowledged)], ["Consumers", (c) => esc(c.consumer_count)],
  ["Publish", (c) => rate(c.message_stats, "publish")], ["Confirm", (c) => rate(c.message_stats, "confirm")], ["Deliver / get", (c) => rate(c.message_stats, "deliver_get")], ["Ack", (c) => rate(c.message_stats, "ack")],
];

export const connections = {
  async render() {
    const list = await api("GET", listPath());
    return `<h2>Connections</h2>${table([
      ["Name", connLink], ["User", (c) => esc(c.user)], ["Virtual host", (c) => esc(c.vhost)], ["Protocol", (c) => esc(c.protocol)],
      ["TLS", (c) => (c.ssl ? "●" : "○")], ["State", (c) => esc(c.state)], ["Channels", (c) => esc(c.channels)],
      ["From client", (c) => `${esc(c.recv_oct_details?.rate?.toFixed?.(0) ?? 0)} B/s`], ["To client", (c) => `${esc(c.send_oct_details?.rate?.toFixed?.(0) ?? 0)} B/s`],
    ], list)}`;
  },
};

/** RabbitMQ lists one vhost's connections and channels at /api/vhosts/<vhost>/connections|channels. */
const listPath = (resource = "connections") => scoped(resource).replace(new RegExp(`^/${resource}/(.+)$`), `/vhosts/$1/${resource}`);

export const connection = {
  async render(name) {
    const [c, chans] = await Promise.all([api("GET", `/connections/${seg(name)}`), api("GET", `/connections/${seg(name)}/channels`)]);
    return `<h2>Connection ${esc(c.client_properties?.connection_name || name)}</h2>
      <dl><dt>Name</dt><dd>${esc(c.name)}</dd><dt>User</dt><dd>${esc(c.user)}</dd><dt>Virtual host</dt><dd>${esc(c.vhost)}</dd><dt>Protocol</dt><dd>${esc(c.protocol)}</dd>
        <dt>TLS</dt><dd>${c.ssl ? "yes" : "no"}</dd><dt>State</dt><dd>${esc(c.state)}</dd><dt>Client</dt><dd>${esc(c.client_properties?.product ?? "")} ${esc(c.client_properties?.version ?? "")}</dd></dl>
      <h3>Channels</h3>${table(channelColumns, chans)}
      <h3>Close this connection</h3><form id="close" class="block" data-label="${esc(c.client_properties?.connection_name ? `${c.client_properties.connection_name} (${c.name})` : c.name)}"><label class="wide">Reason <input name="reason" value="Closed via management plugin"></label><button type="submit">Force close</button></form>`;
  },
  actions: {
    close: async (f, [name]) => {
      if (!confirmed(`Force close connection ${f.dataset.label}?`)) return "keep";
      // RabbitMQ's UI sends the reason in X-Reason; the client sees it in CONNECTION_FORCED's reply text.
      await api("DELETE", `/connections/${seg(name)}`, undefined, { "x-reason": f.reason.value });
      location.hash = "#connections";
      return "keep";
    },
  },
};

export const channels = {
  async render() {
    const list = await api("GET", listPath("channels"));
    return `<h2>Channels</h2>${table(channelColumns, list)}`;
  },
};
