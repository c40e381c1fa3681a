// Exchanges: list and add (type, durability, auto-delete, internal, arguments incl. alternate-exchange); an exchange's page with bindings in and out, publish, delete.
import { api, argsList, bindingsTable, confirmed, esc, parseArgs, publish, publishForm, rate, scoped, seg, state, table, vhostOptions } from "../lib.js";
import { features } from "./features.js";

const link = (vhost, name) => `<a href="#exchange/${seg(vhost)}/${seg(name || "amq.default")}">${esc(name || "(AMQP default)")}</a>`;

export const exchanges = {
  async render() {
    const [list, overview] = await Promise.all([api("GET", scoped("exchanges")), api("GET", "/overview")]);
    const types = (overview.exchange_types ?? []).map((t) => t.name);
    return `<h2>Exchanges</h2>${table([
      ...(state.vhost ? [] : [["Virtual host", (e) => esc(e.vhost)]]),
      ["Name", (e) => link(e.vhost, e.name)], ["Type", (e) => esc(e.type)], ["Features", (e) => features(e, "exchange")],
      ["Message rate in", (e) => rate(e.message_stats, "publish_in")], ["Message rate out", (e) => rate(e.message_stats, "publish_out")],
    ], list)}
      <h3>Add an exchange</h3><form id="add-exchange" class="block"><label>Virtual host <select name="vhost">${await vhostOptions()}</select></label>
      <label>Name <input name="name" required></label>
      <label>Type <select name="type">${types.map((t) => `<option>${esc(t)}</option>`).join("")}</select></label>
      <label>Durability <select name="durable"><option value="true">Durable</option><option value="false">Transient</option></select></label>
      <label>Auto delete <select name="auto_delete"><option value="false">No</option><option value="true">Yes</option></select></label>
      <label>Internal <select name="internal"><option value="false">No</option><option value="true">Yes</option></select></label>
      <label>Alternate exchange <input name="alternate"></label>
      <label class="wide">Arguments (key = value per line) <textarea name="arguments" rows="2"></textarea></label>
      <button type="submit">Add exchange</button></form>`;
  },
  actions: {
    "add-exchange": (f) => {
      const args = parseArgs(f.arguments.value);
      if (f.alternate.value) args["alternate-exchange"] = f.alternate.value;
      return api("PUT", `/exchanges/${seg(f.vhost.value)}/${seg(f.name.value)}`, {
        type: f.type.value, durable: f.durable.value === "true", auto_delete: f.auto_delete.value === "true", internal: f.internal.value === "true", arguments: args,
      });
    },
  },
};

export const exchange = {
  async render(vhost, name) {
    const base = `/exchanges/${seg(vhost)}/${seg(name)}`;
    const [e, out, into] = await Promise.all([api("GET", base), api("GET", `${base}/bindings/source`), api("GET", `${base}/bindings/destination`)]);
    const dest = (b) => b.destination_type === "queue" ? `<a href="#queue/${seg(vhost)}/${seg(b.destination)}">${esc(b.destination)}</a> (queue)` : `${link(vhost, b.destination)} (exchange)`;
    const isDefault = name === "amq.default";
    return `<h2>Exchange ${esc(isDefault ? "(AMQP default)" : name)} <small>in ${esc(vhost)}</small></h2>
      <dl><dt>Type</dt><dd>${esc(e.type)}</dd><dt>Features</dt><dd>${features(e, "exchange")}</dd><dt>Arguments</dt><dd>${argsList(e.arguments)}</dd><dt>Policy</dt><dd>${esc(e.policy ?? "—")}</dd>
        <dt>Rates</dt><dd>in ${rate(e.message_stats, "publish_in")}, out ${rate(e.message_stats, "publish_out")}</dd></dl>
      <h3>Bindings from this exchange</h3>${bindingsTable(out, vhost, [["To", dest]])}
      ${isDefault ? "" : `<form id="bind" class="block"><label>To <select name="kind"><option value="q">queue</option><option value="e">exchange</option></select></label>
        <label>Destination <input name="destination" required></label><label>Routing key <input name="routing_key"></label>
        <label class="wide">Arguments (key = value per line) <textarea name="arguments" rows="2"></textarea></label><button type="submit">Bind</button></form>`}
      <h3>Bindings to this exchange</h3>${bindingsTable(into, vhost, [["From", (b) => link(vhost, b.source)]])}
      <h3>Publish message</h3>${publishForm()}
      ${name.startsWith("amq.") ? "" : `<h3>Delete</h3><p><button type="button" data-action="delete">Delete exchange</button></p>`}`;
  },
  actions: {
    bind: (f, [vhost, name]) => api("POST", `/bindings/${seg(vhost)}/e/${seg(name)}/${f.kind.value}/${seg(f.destination.value)}`, { routing_key: f.routing_key.value, arguments: parseArgs(f.arguments.value) }),
    publish: (f, [vhost, name]) => publish(f, vhost, name),
  },
  clicks: {
    unbind: (b) => api("DELETE", b.dataset.path),
    delete: async (b, [vhost, name]) => {
      if (!confirmed(`Delete exchange ${name}?`)) return "keep";
      await api("DELETE", `/exchanges/${seg(vhost)}/${seg(name)}`);
      location.hash = "#exchanges";
      return "keep";
    },
  },
};
