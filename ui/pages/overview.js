// Overview: totals, live charts (queued messages, message rates) over a chosen window, the node panel, listeners and contexts, churn.
import { api, bytes, duration, esc, rate, table } from "../lib.js";
import { chartWindow, lineChart, record, setWindow, windowSelect } from "./chart.js";

const RATES = [["publish", "Publish"], ["confirm", "Confirm"], ["deliver", "Deliver (manual ack)"], ["deliver_no_ack", "Deliver (auto ack)"], ["ack", "Consumer ack"], ["redeliver", "Redelivered"], ["get", "Get"], ["return_unroutable", "Unroutable (return)"], ["drop_unroutable", "Unroutable (drop)"]];
const CHURN = [["connection_created", "Connections opened"], ["connection_closed", "Connections closed"], ["channel_created", "Channels opened"], ["channel_closed", "Channels closed"], ["queue_declared", "Queues declared"], ["queue_created", "Queues created"], ["queue_deleted", "Queues deleted"]];

function sample(o) {
  const q = o.queue_totals ?? {}, m = o.message_stats ?? {};
  const values = { ready: q.messages_ready ?? 0, unacked: q.messages_unacknowledged ?? 0, total: q.messages ?? 0 };
  for (const [key] of RATES) values[key] = m[`${key}_details`]?.rate ?? 0;
  return values;
}

export const overview = {
  async render() {
    const [o, nodes] = await Promise.all([api("GET", "/overview"), api("GET", "/nodes").catch(() => [])]);
    const windowMs = chartWindow();
    const history = record("warren-history", sample(o));
    const t = o.object_totals ?? {};
    const churn = o.churn_rates;
    return `<h2>Overview</h2><div class="stats">
      ${["connections", "channels", "exchanges", "queues", "consumers"].map((k) => `<div class="stat"><b id="total-${k}">${esc(t[k])}</b>${k}</div>`).join("")}
      <div class="stat"><b id="total-messages">${esc(o.queue_totals?.messages ?? 0)}</b>messages</div>
      <div class="stat"><b id="rate-publish">${rate(o.message_stats, "publish")}</b>publish</div></div>
      ${windowSelect()}
      <div class="charts">${lineChart("chart-queued", "Queued messages", history, [["ready", "Ready"], ["unacked", "Unacked"], ["total", "Total"]], windowMs)}
      ${lineChart("chart-rates", "Message rates", history, RATES, windowMs, "/s")}</div>
      <h3>Nodes</h3>${nodes.map(nodePanel).join("")}
      <h3>Churn statistics</h3>${churn ? `<div class="panel" id="churn">${CHURN.map(([k, l]) => `<div>${l} <b>${rate(churn, k)}</b></div>`).join("")}</div>` : `<p id="churn">This version of Warren's API does not report churn rates.</p>`}
      <h3>Ports and contexts</h3>${table([["Protocol", (l) => esc(l.protocol)], ["Bound to", (l) => esc(l.ip_address)], ["Port", (l) => esc(l.port)]], o.listeners ?? [])}
      ${table([["Web context", (c) => esc(c.description)], ["Bound to", (c) => esc(c.ip ?? "")], ["Port", (c) => esc(c.port)], ["Path", (c) => esc(c.path)]], o.contexts ?? [])}
      <p>${esc(o.product_name)} ${esc(o.product_version)} (RabbitMQ API ${esc(o.rabbitmq_version)}), ${esc(o.erlang_full_version ?? "")}, node ${esc(o.node)}</p>`;
  },
  clicks: {
    window: setWindow,
  },
};

/** used vs limit; a raised alarm in red, as RabbitMQ's node panel shows it. */
function gauge(label, used, limit, alarm, format, inverse = false) {
  const known = typeof limit === "number" && limit > 0;
  const text = inverse ? `${format(used)} free${known ? ` (limit ${format(limit)})` : ""}` : `${format(used)}${known ? ` of ${format(limit)} high watermark` : ""}`;
  return `<div>${label} <b class="${alarm ? "alarm" : ""}">${esc(text)}${alarm ? " — alarm" : ""}</b></div>`;
}

function nodePanel(n) {
  const alarms = [n.mem_alarm ? "memory" : "", n.disk_free_alarm ? "disk" : ""].filter(Boolean);
  return `<div class="panel node" id="node-${esc(n.name)}"><div>Name <b>${esc(n.name)}</b></div>
    ${gauge("Memory", n.mem_used, n.mem_limit, n.mem_alarm, bytes)}
    ${gauge("Disk", n.disk_free, n.disk_free_limit, n.disk_free_alarm, bytes, true)}
    <div>File descriptors <b>${esc(n.fd_used ?? "?")}${n.fd_total ? ` / ${esc(n.fd_total)}` : ""}</b></div>
    <div>Sockets <b>${esc(n.sockets_used ?? "?")}${n.sockets_total ? ` / ${esc(n.sockets_total)}` : ""}</b></div>
    <div>Uptime <b>${esc(duration(n.uptime ?? 0))}</b></div>
    <div>Alarms ${alarms.length ? `<b class="alarm" id="alarms">${esc(alarms.join(", "))}</b>` : `<b class="ok" id="alarms">none</b>`}</div></div>`;
}
