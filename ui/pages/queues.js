// Queues: the paged, filtered, sorted list (server-side: RabbitMQ's page/page_size/name/use_regex/sort parameters) and a queue's page.
import { api, argsList, bindingsTable, bytes, confirmed, esc, parseArgs, publish, publishForm, rate, scoped, seg, state, table, vhostOptions } from "../lib.js";
import { chartWindow, lineChart, record, setWindow, windowSelect } from "./chart.js";
import { features } from "./features.js";

const QUEUE_RATES = [["publish", "Publish"], ["deliver", "Deliver"], ["get", "Get"], ["ack", "Consumer ack"], ["redeliver", "Redelivered"]];

const view = JSON.parse(sessionStorage.getItem("warren-queues-view") ?? "null") ?? { page: 1, page_size: 100, name: "", use_regex: false, sort: "name", sort_reverse: false };
const keep = () => sessionStorage.setItem("warren-queues-view", JSON.stringify(view));
const link = (q) => `<a href="#queue/${seg(q.vhost)}/${seg(q.name)}">${esc(q.name)}</a>`;

export const queues = {
  async render() {
    const query = new URLSearchParams({ page: String(view.page), page_size: String(view.page_size), name: view.name, use_regex: String(view.use_regex), sort: view.sort, sort_reverse: String(view.sort_reverse), pagination: "true" });
    const list = await api("GET", `${scoped("queues")}?${query}`);
    const columns = [
      ...(state.vhost ? [] : [["Virtual host", (q) => esc(q.vhost), "vhost"]]),
      ["Name", link, "name"],
      ["Type", (q) => esc(q.type), "type"],
      ["Features", (q) => features(q)],
      ["State", (q) => esc(q.state), "state"],
      ["Ready", (q) => esc(q.messages_ready), "messages_ready"],
      ["Unacked", (q) => esc(q.messages_unacknowledged), "messages_unacknowledged"],
      ["Total", (q) => `<span class="messages">${esc(q.messages)}</span>`, "messages"],
      ["Consumers", (q) => esc(q.consumers), "consumers"],
      ["Incoming", (q) => rate(q.message_stats, "publish")],
      ["Deliver / get", (q) => rate(q.message_stats, "deliver_get")],
      ["Ack", (q) => rate(q.message_stats, "ack")],
    ];
    return `<h2>Queues</h2>
      <form id="queue-filter"><label>Filter <input name="name" value="${esc(view.name)}" placeholder="name"></label>
        <label class="inline"><span>Regex</span><input type="checkbox" name="use_regex" ${view.use_regex ? "checked" : ""}></label>
        <label>Page size <select name="page_size">${[20, 50, 100, 500].map((n) => `<option ${n === view.page_size ? "selected" : ""}>${n}</option>`).join("")}</select></label>
        <button type="submit">Apply</button></form>
      <p class="pager" id="pager"><button type="button" data-action="page" data-page="${list.page - 1}" ${list.page <= 1 ? "disabled" : ""}>Previous</button>
        <span>Page ${list.page} of ${list.page_count} — ${list.filtered_count} of ${list.total_count} queues match</span>
        <button type="button" data-action="page" data-page="${list.page + 1}" ${list.page >= list.page_count ? "disabled" : ""}>Next</button></p>
      ${table(columns, list.items, { by: view.sort, reverse: view.sort_reverse })}
      <h3>Add a queue</h3><form id="add-queue" class="block"><label>Virtual host <select name="vhost">${await vhostOptions()}</select></label>
      <label>Type <select name="type"><option>classic</option><option>quorum</option><option>stream</option></select></label>
      <label>Name <input name="name" required></label><label>Durability <select name="durable"><option value="true">Durable</option><option value="false">Transient</option></select></label>
      <label>Auto delete <select name="auto_delete"><option value="false">No</option><option value="true">Yes</option></select></label>
      <label class="wide">Arguments (key = value per line, e.g. x-message-ttl = 60000) <textarea name="arguments" rows="2"></textarea></label>
      <button type="submit">Add queue</button></form>`;
  },
  actions: {
    "queue-filter": (f) => {
      Object.assign(view, { name: f.name.value, use_regex: f.use_regex.checked, page_size: Number(f.page_size.value), page: 1 });
      keep();
    },
    "add-queue": (f) => {
      const args = parseArgs(f.arguments.value);
      if (f.type.value !== "classic") args["x-queue-type"] = f.type.value;
      return api("PUT", `/queues/${seg(f.vhost.value)}/${seg(f.name.value)}`, { durable: f.durable.value === "true", auto_delete: f.auto_delete.value === "true", arguments: args });
    },
  },
  clicks: {
    page: (button) => { view.page = Number(button.dataset.page); keep(); },
    sort: (button) => {
      view.sort_reverse = view.sort === button.dataset.sort ? !view.sort_reverse : false;
      view.sort = button.dataset.sort;
      keep();
    },
  },
};

const GOT = "warren-got";
/** The last move's outcome, shown on its queue's page after the redraw. */
let lastMove = null;

/** A stream's segments on disk (Warren's stream_segments): retention removes whole ones, oldest first. */
function segments(s) {
  if (!s) return "";
  const offsets = s.last_offset === null ? "empty" : `offsets ${esc(s.first_offset)} to ${esc(s.last_offset)}`;
  return `<dt>Segments</dt><dd id="stream-segments">${esc(s.count)} segments, ${esc(bytes(s.bytes))}, ${offsets}</dd>`;
}

export const queue = {
  async render(vhost, name) {
    const base = `/queues/${seg(vhost)}/${seg(name)}`;
    const [q, bindings] = await Promise.all([api("GET", base), api("GET", `${base}/bindings`)]);
    const got = JSON.parse(sessionStorage.getItem(GOT) ?? "null");
    const shown = got && got.queue === `${vhost}/${name}` ? got.messages : null;
    const values = { ready: q.messages_ready ?? 0, unacked: q.messages_unacknowledged ?? 0, total: q.messages ?? 0 };
    for (const [key] of QUEUE_RATES) values[key] = q.message_stats?.[`${key}_details`]?.rate ?? 0;
    const history = record("warren-queue-history", values, `${vhost}/${name}`);
    return `<h2>Queue ${esc(name)} <small>in ${esc(vhost)}</small></h2>
      <div class="panel">
        <div>Messages <b id="queue-messages">${esc(q.messages)}</b></div><div>Ready ${esc(q.messages_ready)}</div><div>Unacked ${esc(q.messages_unacknowledged)}</div>
        <div>Consumers ${esc(q.consumers)}</div><div>State ${esc(q.state)}</div><div>Type ${esc(q.type)}</div>
        <div>Incoming ${rate(q.message_stats, "publish")}</div><div>Deliver / get ${rate(q.message_stats, "deliver_get")}</div><div>Ack ${rate(q.message_stats, "ack")}</div>
      </div>
      ${windowSelect()}
      <div class="charts">${lineChart("chart-queued", "Queued messages", history, [["ready", "Ready"], ["unacked", "Unacked"], ["total", "Total"]], chartWindow())}
      ${lineChart("chart-rates", "Message rates", history, QUEUE_RATES, chartWindow(), "/s")}</div>
      <h3>Details</h3><dl><dt>Features</dt><dd id="queue-features">${features(q)}</dd>
        <dt>Arguments</dt><dd>${argsList(q.arguments)}</dd>${segments(q.stream_segments)}
        <dt>Policy</dt><dd id="queue-policy">${esc(q.policy ?? "—")}</dd><dt>Effective policy definition</dt><dd>${argsList(q.effective_policy_definition)}</dd>
        <dt>Operator policy</dt><dd>${esc(q.operator_policy ?? "—")}</dd></dl>
      <h3>Consumers</h3>${table([["Channel", (c) => esc(c.channel_details?.name)], ["Consumer tag", (c) => esc(c.consumer_tag)], ["Ack required", (c) => esc(c.ack_required)], ["Exclusive", (c) => esc(c.exclusive)], ["Prefetch", (c) => esc(c.prefetch_count)], ["Active", (c) => esc(c.active ?? true)]], q.consumer_details ?? [])}
      <h3>Bindings</h3>${bindingsTable(bindings, vhost, [["From", (b) => b.source ? `<a href="#exchange/${seg(vhost)}/${seg(b.source)}">${esc(b.source)}</a>` : "(default exchange binding)"]])}
      <form id="bind" class="block"><label>From exchange <input name="source" required></label><label>Routing key <input name="routing_key"></label>
        <label class="wide">Arguments (key = value per line) <textarea name="arguments" rows="2"></textarea></label><button type="submit">Bind</button></form>
      <h3>Publish message</h3>${publishForm(name)}
      <h3>Get messages</h3><form id="get" class="block"><label>Ack mode <select name="ackmode"><option value="ack_requeue_true">Nack message requeue true</option><option value="ack_requeue_false">Automatic ack</option><option value="reject_requeue_true">Reject requeue true</option><option value="reject_requeue_false">Reject requeue false</option></select></label>
        <label>Encoding <select name="encoding"><option value="auto">Auto string / base64</option><option value="base64">base64</option></select></label>
        <label>Messages <input name="count" value="1" size="4" inputmode="numeric"></label><button type="submit">Get messages</button></form>
      <div id="got">${shown === null ? "" : shown.length === 0 ? "<p>Queue is empty</p>" : shown.map(message).join("")}</div>
      <h3>Move messages</h3><form id="move" class="block"><label>Destination queue <input name="destination" required list="move-queues"></label>
        <datalist id="move-queues">${(await api("GET", `/queues/${seg(vhost)}?columns=name`)).filter((o) => o.name !== name).map((o) => `<option value="${esc(o.name)}">`).join("")}</datalist>
        <button type="submit">Move messages</button><output id="move-result">${lastMove?.queue === `${vhost}/${name}` ? esc(lastMove.text) : ""}</output></form>
      <h3>Purge and delete</h3><p><button type="button" data-action="purge">Purge messages</button> <button type="button" data-action="delete">Delete queue</button></p>`;
  },
  actions: {
    // Warren's own queue action (RabbitMQ's UI creates a one-off shovel): every ready message, answered once on disk.
    move: async (f, [vhost, name]) => {
      lastMove = null;
      const { moved } = await api("POST", `/queues/${seg(vhost)}/${seg(name)}/actions`, { action: "move", destination: f.destination.value });
      lastMove = { queue: `${vhost}/${name}`, text: `Moved ${moved} message${moved === 1 ? "" : "s"} to ${f.destination.value}.` };
    },
    bind: (f, [vhost, name]) => api("POST", `/bindings/${seg(vhost)}/e/${seg(f.source.value)}/q/${seg(name)}`, { routing_key: f.routing_key.value, arguments: parseArgs(f.arguments.value) }),
    publish: (f, [vhost]) => publish(f, vhost, ""),
    get: async (f, [vhost, name]) => {
      const messages = await api("POST", `/queues/${seg(vhost)}/${seg(name)}/get`, { count: Number(f.count.value), ackmode: f.ackmode.value, encoding: f.encoding.value, truncate: 50000 });
      sessionStorage.setItem(GOT, JSON.stringify({ queue: `${vhost}/${name}`, messages }));
    },
  },
  clicks: {
    window: setWindow,
    unbind: (b) => api("DELETE", b.dataset.path),
    purge: async (b, [vhost, name]) => {
      if (!confirmed(`Purge all messages of queue ${name}?`)) return "keep";
      await api("DELETE", `/queues/${seg(vhost)}/${seg(name)}/contents`);
    },
    delete: async (b, [vhost, name]) => {
      if (!confirmed(`Delete queue ${name}?`)) return "keep";
      await api("DELETE", `/queues/${seg(vhost)}/${seg(name)}`);
      location.hash = "#queues";
      return "keep";
    },
  },
};

function message(m, i) {
  const p = m.properties ?? {};
  return `<div class="got-message"><h4>Message ${i + 1}</h4><dl>
    <dt>Exchange</dt><dd>${esc(m.exchange || "(AMQP default)")}</dd><dt>Routing key</dt><dd>${esc(m.routing_key)}</dd>
    <dt>Redelivered</dt><dd>${esc(m.redelivered)}</dd><dt>Properties</dt><dd>${argsList(p)}</dd>
    <dt>Payload</dt><dd>${esc(m.payload_bytes)} bytes, encoding ${esc(m.payload_encoding)}</dd></dl>
    <pre class="message">${esc(m.payload)}</pre></div>`;
}
