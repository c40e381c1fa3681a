// Admin: users (tags, password, permissions per vhost, delete), virtual hosts, policies, limits, feature flags, definitions.
import { api, argsList, confirmed, esc, parseArgs, scoped, seg, state, table, vhostOptions } from "../lib.js";

const userLink = (u) => `<a href="#user/${seg(u.name)}">${esc(u.name)}</a>`;
const permissionForm = (vhosts, user = "") => `<form id="set-permission" class="block">
  ${user ? "" : `<label>User <input name="user" required></label>`}<label>Virtual host <select name="vhost">${vhosts}</select></label>
  <label>Configure regexp <input name="configure" value=".*"></label><label>Write regexp <input name="write" value=".*"></label><label>Read regexp <input name="read" value=".*"></label>
  <button type="submit">Set permission</button></form>`;
const setPermission = (f, user) => api("PUT", `/permissions/${seg(f.vhost.value)}/${seg(user ?? f.user.value)}`, { configure: f.configure.value, write: f.write.value, read: f.read.value });
const permissionColumns = (first) => [first, ["Configure", (p) => `<code>${esc(p.configure)}</code>`], ["Write", (p) => `<code>${esc(p.write)}</code>`], ["Read", (p) => `<code>${esc(p.read)}</code>`],
  ["", (p) => `<button type="button" data-action="clear-permission" data-vhost="${esc(p.vhost)}" data-user="${esc(p.user)}">Clear</button>`]];

// Topic permissions (RabbitMQ's user page): write/read regexps over routing keys, per vhost and topic exchange.
const topicPermissionColumns = [["Virtual host", (p) => esc(p.vhost)], ["Exchange", (p) => esc(p.exchange)], ["Write regexp", (p) => `<code>${esc(p.write)}</code>`], ["Read regexp", (p) => `<code>${esc(p.read)}</code>`],
  ["", (p) => `<button type="button" data-action="clear-topic-permission" data-vhost="${esc(p.vhost)}" data-exchange="${esc(p.exchange)}">Clear</button>`]];
const topicPermissionForm = (vhosts) => `<form id="set-topic-permission" class="block"><label>Virtual host <select name="vhost">${vhosts}</select></label>
  <label>Exchange <input name="exchange" value="amq.topic" required></label><label>Write regexp <input name="write" value=".*"></label><label>Read regexp <input name="read" value=".*"></label>
  <button type="submit">Set topic permission</button></form>`;
/**
 * The API's DELETE clears every exchange of the user in that vhost (RabbitMQ 3.10 ignores an exchange
 * in the request), so clearing one row puts the pair's other exchanges back, as `warren ctl clear_topic_permissions` does.
 */
async function clearTopicPermission(user, vhost, exchange) {
  const path = `/topic-permissions/${seg(vhost)}/${seg(user)}`;
  const kept = (await api("GET", path)).filter((p) => p.exchange !== exchange);
  await api("DELETE", path);
  for (const p of kept) await api("PUT", path, { exchange: p.exchange, write: p.write, read: p.read });
}

export const users = {
  async render() {
    const [list, permissions] = await Promise.all([api("GET", "/users"), api("GET", "/permissions")]);
    const can = (u) => permissions.filter((p) => p.user === u.name).map((p) => p.vhost);
    return `<h2>Users</h2>${table([["Name", userLink], ["Tags", (u) => esc([].concat(u.tags).join(", "))], ["Can access virtual hosts", (u) => esc(can(u).join(", ") || "No access")], ["Has password", (u) => (u.password_hash ? "●" : "○")]], list)}
      <h3>Add a user</h3><form id="add-user" class="block"><label>Name <input name="name" required></label><label>Password <input name="password" type="password" autocomplete="new-password"></label>
        <label>Tags <input name="tags" placeholder="administrator, monitoring"></label><button type="submit">Add user</button></form>
      <h2>Permissions</h2>${table(permissionColumns(["User", (p) => `${esc(p.user)} in ${esc(p.vhost)}`]), permissions)}${permissionForm(await vhostOptions())}`;
  },
  actions: {
    "add-user": (f) => api("PUT", `/users/${seg(f.name.value)}`, { ...(f.password.value ? { password: f.password.value } : { password_hash: "" }), tags: f.tags.value }),
    "set-permission": (f) => setPermission(f),
  },
  clicks: { "clear-permission": (b) => api("DELETE", `/permissions/${seg(b.dataset.vhost)}/${seg(b.dataset.user)}`) },
};

export const user = {
  async render(name) {
    const [u, permissions, topicPermissions] = await Promise.all([api("GET", `/users/${seg(name)}`), api("GET", `/users/${seg(name)}/permissions`), api("GET", `/users/${seg(name)}/topic-permissions`)]);
    const vhosts = await vhostOptions();
    return `<h2>User ${esc(name)}</h2><p>Tags: <b id="user-tags">${esc([].concat(u.tags).join(", ") || "none")}</b></p>
      <h3>Permissions</h3>${table(permissionColumns(["Virtual host", (p) => esc(p.vhost)]), permissions)}${permissionForm(vhosts, name)}
      <h3>Topic permissions</h3><div id="topic-permissions">${table(topicPermissionColumns, topicPermissions)}</div>${topicPermissionForm(vhosts)}
      <h3>Update this user</h3><form id="update-user" class="block"><label>Tags <input name="tags" value="${esc([].concat(u.tags).join(","))}"></label>
        <label>New password (empty: keep) <input name="password" type="password" autocomplete="new-password"></label><button type="submit">Update user</button></form>
      <h3>Delete this user</h3><p><button type="button" data-action="delete-user">Delete user</button></p>`;
  },
  actions: {
    "set-permission": (f, [name]) => setPermission(f, name),
    "set-topic-permission": (f, [name]) => api("PUT", `/topic-permissions/${seg(f.vhost.value)}/${seg(name)}`, { exchange: f.exchange.value, write: f.write.value, read: f.read.value }),
    "update-user": async (f, [name]) => {
      const u = await api("GET", `/users/${seg(name)}`);
      await api("PUT", `/users/${seg(name)}`, { ...(f.password.value ? { password: f.password.value } : { password_hash: u.password_hash, hashing_algorithm: u.hashing_algorithm }), tags: f.tags.value });
    },
  },
  clicks: {
    "clear-permission": (b) => api("DELETE", `/permissions/${seg(b.dataset.vhost)}/${seg(b.dataset.user)}`),
    "clear-topic-permission": (b, [name]) => clearTopicPermission(name, b.dataset.vhost, b.dataset.exchange),
    "delete-user": async (b, [name]) => {
      if (!confirmed(`Delete user ${name}?`)) return "keep";
      await api("DELETE", `/users/${seg(name)}`);
      location.hash = "#users";
      return "keep";
    },
  },
};

export const vhosts = {
  async render() {
    const [list, limitList] = await Promise.all([api("GET", "/vhosts"), api("GET", "/vhost-limits").catch(() => [])]);
    const limitsOf = (v) => limitList.find((l) => l.vhost === v.name)?.value;
    return `<h2>Virtual hosts</h2>${table([["Name", (v) => esc(v.name)], ["Description", (v) => esc(v.description ?? "")], ["Default queue type", (v) => esc(v.default_queue_type ?? "classic")], ["Messages", (v) => esc(v.messages ?? 0)],
      ["Limits", (v) => `${argsList(limitsOf(v))} <a href="#limits">set</a>`],
      ["", (v) => v.name === "/" ? "" : `<button type="button" data-action="delete-vhost" data-vhost="${esc(v.name)}">Delete</button>`]], list)}
      <h3>Add a virtual host</h3><form id="add-vhost" class="block"><label>Name <input name="name" required></label><label>Description <input name="description"></label>
        <label>Default queue type <select name="default_queue_type"><option>classic</option><option>quorum</option></select></label><button type="submit">Add virtual host</button></form>`;
  },
  actions: { "add-vhost": (f) => api("PUT", `/vhosts/${seg(f.name.value)}`, { description: f.description.value, default_queue_type: f.default_queue_type.value }) },
  clicks: {
    "delete-vhost": async (b) => {
      if (!confirmed(`Delete virtual host ${b.dataset.vhost} and everything in it?`)) return "keep";
      await api("DELETE", `/vhosts/${seg(b.dataset.vhost)}`);
    },
  },
};

/** A policy definition from the editor: a JSON object, or "key = value" lines. */
function definition(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try { return JSON.parse(trimmed); } catch (error) { throw new Error(`Definition is not valid JSON: ${error.message}`); }
  }
  return parseArgs(text);
}

export const policies = {
  async render() {
    const [list, operator] = await Promise.all([api("GET", scoped("policies")), api("GET", scoped("operator-policies")).catch(() => null)]);
    const columns = (kind) => [["Virtual host", (p) => esc(p.vhost)], ["Name", (p) => esc(p.name)], ["Pattern", (p) => `<code>${esc(p.pattern)}</code>`], ["Apply to", (p) => esc(p["apply-to"])],
      ["Definition", (p) => argsList(p.definition)], ["Priority", (p) => esc(p.priority)], ["", (p) => `<button type="button" data-action="delete-policy" data-kind="${kind}" data-vhost="${esc(p.vhost)}" data-name="${esc(p.name)}">Delete</button>`]];
    return `<h2>Policies</h2>${table(columns("policies"), list)}
      <h3>Add / update a policy</h3><form id="add-policy" class="block"><label>Kind <select name="kind"><option value="policies">Policy</option>${operator ? `<option value="operator-policies">Operator policy</option>` : ""}</select></label>
        <label>Virtual host <select name="vhost">${await vhostOptions()}</select></label><label>Name <input name="name" required></label><label>Pattern <input name="pattern" required placeholder="^amq\\."></label>
        <label>Apply to <select name="apply_to"><option value="all">Exchanges and queues</option><option value="queues">Queues</option><option value="exchanges">Exchanges</option></select></label>
        <label>Priority <input name="priority" value="0" inputmode="numeric"></label>
        <label class="wide">Definition (JSON object, or key = value per line) <textarea name="definition" rows="3" placeholder="max-length = 1000"></textarea></label><button type="submit">Add / update policy</button></form>
      <h2>Operator policies</h2>${operator ? table(columns("operator-policies"), operator) : `<p>This version of Warren's API has no operator policies.</p>`}`;
  },
  actions: {
    "add-policy": (f) => api("PUT", `/${f.kind.value}/${seg(f.vhost.value)}/${seg(f.name.value)}`, { pattern: f.pattern.value, "apply-to": f.apply_to.value, priority: Number(f.priority.value), definition: definition(f.definition.value) }),
  },
  clicks: {
    "delete-policy": async (b) => {
      if (!confirmed(`Delete policy ${b.dataset.name}?`)) return "keep";
      await api("DELETE", `/${b.dataset.kind}/${seg(b.dataset.vhost)}/${seg(b.dataset.name)}`);
    },
  },
};

export const limits = {
  async render() {
    const [vhostLimits, userLimits] = await Promise.all([api("GET", "/vhost-limits").catch(() => null), api("GET", "/user-limits").catch(() => null)]);
    // one row per limit, each with its own Clear button (RabbitMQ's UI lists them the same way)
    const rows = (list, owner) => (list ?? []).flatMap((l) => Object.entries(l.value ?? {}).map(([name, value]) => ({ owner: l[owner], name, value })));
    const row = (owner) => [[owner === "vhost" ? "Virtual host" : "User", (l) => esc(l.owner)], ["Limit", (l) => esc(l.name)], ["Value", (l) => esc(l.value)],
      ["", (l) => `<button type="button" data-action="clear-limit" data-path="/${owner}-limits/${seg(l.owner)}/${seg(l.name)}" data-label="${esc(`${l.name} of ${l.owner}`)}">Clear</button>`]];
    return `<h2>Limits</h2>
      <h3>Virtual host limits</h3>${vhostLimits ? table(row("vhost"), rows(vhostLimits, "vhost")) + `<form id="set-vhost-limit" class="block"><label>Virtual host <select name="vhost">${await vhostOptions()}</select></label>
        <label>Limit <select name="name"><option>max-connections</option><option>max-queues</option></select></label><label>Value <input name="value" inputmode="numeric" required></label><button type="submit">Set limit</button></form>` : `<p>This version of Warren's API has no /api/vhost-limits.</p>`}
      <h3>User limits</h3>${userLimits ? table(row("user"), rows(userLimits, "user")) + `<form id="set-user-limit" class="block"><label>User <input name="user" required></label>
        <label>Limit <select name="name"><option>max-connections</option><option>max-channels</option></select></label><label>Value <input name="value" inputmode="numeric" required></label><button type="submit">Set limit</button></form>` : `<p>This version of Warren's API has no /api/user-limits.</p>`}`;
  },
  actions: {
    "set-vhost-limit": (f) => api("PUT", `/vhost-limits/${seg(f.vhost.value)}/${seg(f.name.value)}`, { value: limitValue(f.value.value) }),
    "set-user-limit": (f) => api("PUT", `/user-limits/${seg(f.user.value)}/${seg(f.name.value)}`, { value: limitValue(f.value.value) }),
  },
  clicks: {
    "clear-limit": async (b) => {
      if (!confirmed(`Clear limit ${b.dataset.label}?`)) return "keep";
      await api("DELETE", b.dataset.path);
    },
  },
};

/** A number when the box holds one; otherwise the text as typed, so that the API's own refusal is what the operator reads. */
const limitValue = (text) => (/^-?\d+$/.test(text.trim()) ? Number(text) : text);

export const featureFlags = {
  async render() {
    const flags = await api("GET", "/feature-flags").catch(() => null);
    return `<h2>Feature flags</h2>${flags ? table([["Name", (f) => esc(f.name)], ["State", (f) => esc(f.state)], ["Stability", (f) => esc(f.stability)], ["Description", (f) => esc(f.desc)]], flags) : `<p>This version of Warren's API has no /api/feature-flags.</p>`}`;
  },
};

export const definitions = {
  async render() {
    return `<h2>Definitions</h2><p><button type="button" data-action="export">Download definitions</button></p>
      <form id="import" class="block"><label>Definitions file <input type="file" name="file" accept=".json"></label><button type="submit">Upload definitions</button></form><p id="import-result" role="status"></p>`;
  },
  actions: {
    import: async (f) => {
      const file = f.file.files[0];
      if (!file) throw new Error("Choose a definitions file first.");
      let definitions;
      try { definitions = JSON.parse(await file.text()); } catch (error) { throw new Error(`${file.name} is not valid JSON: ${error.message}`); }
      await api("POST", "/definitions", definitions);
      document.getElementById("import-result").textContent = "Definitions imported.";
      return "keep";
    },
  },
  clicks: {
    export: async () => {
      const defs = await api("GET", state.vhost ? `/definitions/${seg(state.vhost)}` : "/definitions");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(defs, null, 2)], { type: "application/json" }));
      link.download = "warren-definitions.json";
      link.click();
      return "keep";
    },
  },
};
