// Shared helpers for the UI's pages: the API call, HTML escaping, tables, formats, confirmations.
export const state = {
  auth: sessionStorage.getItem("warren-auth"),
  /** The selected virtual host ("" = all), as RabbitMQ's UI keeps it. */
  vhost: sessionStorage.getItem("warren-vhost") ?? "",
};

export const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const seg = encodeURIComponent;

/** Some of RabbitMQ's texts come HTML-escaped (/api/policies: &lt;&lt;"x"&gt;&gt;); errors are shown as text, so they are unescaped. */
const unescapeHtml = (text) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

export async function api(method, path, body, headers = {}) {
  const response = await fetch(`/api${path}`, {
    method,
    // X-Requested-With: the API then sends no Basic challenge, so the browser shows no login dialog of its own.
    headers: { authorization: `Basic ${state.auth}`, "x-requested-with": "XMLHttpRequest", ...(body ? { "content-type": "application/json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { reason: text }; }
  if (!response.ok) throw new Error(json?.reason ? (typeof json.reason === "string" ? unescapeHtml(json.reason) : JSON.stringify(json.reason)) : `HTTP ${response.status}`);
  return json;
}

/** The list path for the selected virtual host: /queues or /queues/<vhost>. */
export const scoped = (resource) => (state.vhost ? `/${resource}/${seg(state.vhost)}` : `/${resource}`);

/** columns: [label, cell(row) → HTML, sort key?]; a sort key makes the header a sort link. */
export function table(columns, rows, sort) {
  const head = columns.map(([label, , key]) => {
    if (!key || !sort) return `<th scope="col">${esc(label)}</th>`;
    const active = sort.by === key;
    const arrow = active ? (sort.reverse ? " ▼" : " ▲") : "";
    return `<th scope="col" ${active ? `aria-sort="${sort.reverse ? "descending" : "ascending"}"` : ""}><button type="button" class="link sort" data-action="sort" data-sort="${esc(key)}">${esc(label)}${arrow}</button></th>`;
  }).join("");
  const body = rows.length
    ? rows.map((row) => `<tr>${columns.map(([, cell]) => `<td>${cell(row)}</td>`).join("")}</tr>`).join("")
    : `<tr><td colspan="${columns.length}" class="empty">None</td></tr>`;
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export const rate = (stats, key) => `${(stats?.[`${key}_details`]?.rate ?? 0).toFixed(1)}/s`;

export function bytes(n) {
  if (typeof n !== "number") return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function duration(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

/** A JSON object from the "key = value" lines of an arguments box; numbers and booleans keep their type, as RabbitMQ's UI does. */
export function parseArgs(text) {
  const out = {};
  for (const line of String(text ?? "").split("\n")) {
    const at = line.indexOf("=");
    if (at < 0) continue;
    const key = line.slice(0, at).trim(), raw = line.slice(at + 1).trim();
    if (!key) continue;
    out[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === "true" ? true : raw === "false" ? false : raw;
  }
  return out;
}

export const argsList = (args) => Object.entries(args ?? {}).map(([k, v]) => `<code>${esc(k)}: ${esc(typeof v === "object" ? JSON.stringify(v) : v)}</code>`).join(" ") || "—";

/** Options for a <select> of the virtual hosts, the current one selected. */
export async function vhostOptions(selected = state.vhost || "/") {
  const list = await api("GET", "/vhosts");
  return list.map((v) => `<option ${v.name === selected ? "selected" : ""}>${esc(v.name)}</option>`).join("");
}

/** The publish form shared by the queue and exchange pages (routing key, delivery mode, properties, headers). */
export function publishForm(routingKey = "") {
  return `<form id="publish" class="block">
    <label>Routing key <input name="routing_key" value="${esc(routingKey)}"></label>
    <label>Delivery mode <select name="delivery_mode"><option value="1">1 - Non-persistent</option><option value="2">2 - Persistent</option></select></label>
    <label class="wide">Headers (key = value per line) <textarea name="headers" rows="2"></textarea></label>
    <label class="wide">Properties (key = value per line, e.g. content_type = text/plain) <textarea name="props" rows="2"></textarea></label>
    <label class="wide">Payload <textarea name="payload" rows="3"></textarea></label>
    <button type="submit">Publish message</button><output name="result"></output></form>`;
}

export async function publish(form, vhost, exchange) {
  const properties = { ...parseArgs(form.props.value), delivery_mode: Number(form.delivery_mode.value), headers: parseArgs(form.headers.value) };
  const answer = await api("POST", `/exchanges/${seg(vhost)}/${seg(exchange || "amq.default")}/publish`, {
    properties, routing_key: form.routing_key.value, payload: form.payload.value, payload_encoding: "string",
  });
  form.result.value = answer.routed ? "Message published." : "Message published, but not routed.";
  return "keep";
}

/** Bindings table with an Unbind button on each row; the row's props key identifies it to the API. */
export function bindingsTable(bindings, vhost, show) {
  return table([
    ...show,
    ["Routing key", (b) => esc(b.routing_key)],
    ["Arguments", (b) => argsList(b.arguments)],
    ["", (b) => b.source === "" ? "" : `<button type="button" data-action="unbind" data-path="/bindings/${seg(vhost)}/e/${seg(b.source)}/${b.destination_type === "queue" ? "q" : "e"}/${seg(b.destination)}/${seg(b.properties_key)}">Unbind</button>`],
  ], bindings);
}

export const confirmed = (question) => window.confirm(question);
