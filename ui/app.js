// Warren's management UI: a small single page over RabbitMQ's /api (the same calls rabbitmqadmin makes).
const main = document.getElementById("main");
const nav = document.getElementById("nav");
let auth = sessionStorage.getItem("warren-auth");
let refreshTimer = null;

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const seg = encodeURIComponent;

async function api(method, path, body) {
  const response = await fetch(`/api${path}`, {
    method,
    // X-Requested-With: the API then sends no Basic challenge, so the browser shows no login dialog of its own.
    headers: { authorization: `Basic ${auth}`, "x-requested-with": "XMLHttpRequest", ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(json?.reason ? (typeof json.reason === "string" ? json.reason : JSON.stringify(json.reason)) : `HTTP ${response.status}`);
  return json;
}

function table(columns, rows) {
  const head = columns.map(([label]) => `<th>${esc(label)}</th>`).join("");
  const body = rows.map((row) => `<tr>${columns.map(([, cell]) => `<td>${cell(row)}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const rate = (stats, key) => (stats?.[`${key}_details`]?.rate ?? 0).toFixed(1);

const pages = {
  async overview() {
    const o = await api("GET", "/overview");
    const t = o.object_totals, q = o.queue_totals, m = o.message_stats;
    return `<h2>Overview</h2><div class="stats">
      ${["connections", "channels", "exchanges", "queues", "consumers"].map((k) => `<div class="stat"><b id="total-${k}">${t[k]}</b>${k}</div>`).join("")}
      <div class="stat"><b>${q.messages}</b>messages</div>
      <div class="stat"><b id="rate-publish">${rate(m, "publish")}/s</b>publish</div>
      <div class="stat"><b>${rate(m, "deliver_get")}/s</b>deliver/get</div></div>
      <h3>Listeners</h3>${table([["Protocol", (l) => esc(l.protocol)], ["Interface", (l) => esc(l.ip_address)], ["Port", (l) => esc(l.port)]], o.listeners)}
      <p>${esc(o.product_name)} ${esc(o.product_version)} (RabbitMQ API ${esc(o.rabbitmq_version)}), node ${esc(o.node)}</p>`;
  },
  async queues() {
    const queues = await api("GET", "/queues");
    return `<h2>Queues</h2>${table(
      [
        ["Virtual host", (q) => esc(q.vhost)],
        ["Name", (q) => `<a href="#queue/${seg(q.vhost)}/${seg(q.name)}">${esc(q.name)}</a>`],
        ["Ready", (q) => esc(q.messages_ready)],
        ["Unacked", (q) => esc(q.messages_unacknowledged)],
        ["Total", (q) => `<span class="messages" data-queue="${esc(q.name)}">${esc(q.messages)}</span>`],
        ["Consumers", (q) => esc(q.consumers)],
        ["Publish", (q) => `${rate(q.message_stats, "publish")}/s`],
      ],
      queues,
    )}<h3>Add a queue</h3><form id="add-queue"><label>Virtual host <input name="vhost" value="/"></label>
      <label>Name <input name="name" required></label><label>Durable <select name="durable"><option>true</option><option>false</option></select></label>
      <button type="submit">Add queue</button></form>`;
  },
  async queue(vhost, name) {
    const q = await api("GET", `/queues/${seg(vhost)}/${seg(name)}`);
    const bindings = await api("GET", `/queues/${seg(vhost)}/${seg(name)}/bindings`);
    return `<h2>Queue ${esc(name)} <small>in ${esc(vhost)}</small></h2>
      <p>Messages: <b id="queue-messages">${q.messages}</b> (ready ${q.messages_ready}, unacked ${q.messages_unacknowledged}), consumers ${q.consumers}, durable ${q.durable}</p>
      <h3>Bindings</h3>${table([["From", (b) => esc(b.source || "(default exchange)")], ["Routing key", (b) => esc(b.routing_key)]], bindings)}
      <h3>Consumers</h3>${table([["Tag", (c) => esc(c.consumer_tag)], ["Channel", (c) => esc(c.channel_details.name)], ["Prefetch", (c) => esc(c.prefetch_count)]], q.consumer_details)}
      <h3>Publish message</h3><form id="publish"><label>Payload <input name="payload"></label><button type="submit">Publish message</button></form>
      <h3>Get messages</h3><form id="get"><label>Count <input name="count" value="1" size="3"></label>
      <label>Ack mode <select name="ackmode"><option>ack_requeue_true</option><option>ack_requeue_false</option><option>reject_requeue_true</option><option>reject_requeue_false</option></select></label>
      <button type="submit">Get messages</button></form><div id="got"></div>
      <form id="purge"><button type="submit">Purge messages</button></form><form id="delete"><button type="submit">Delete queue</button></form>`;
  },
  async exchanges() {
    const list = await api("GET", "/exchanges");
    return `<h2>Exchanges</h2>${table([["Virtual host", (e) => esc(e.vhost)], ["Name", (e) => esc(e.name || "(AMQP default)")], ["Type", (e) => esc(e.type)], ["In", (e) => `${rate(e.message_stats, "publish_in")}/s`]], list)}`;
  },
  async connections() {
    const list = await api("GET", "/connections");
    return `<h2>Connections</h2>${table([["Name", (c) => esc(c.name)], ["User", (c) => esc(c.user)], ["Protocol", (c) => esc(c.protocol)], ["Channels", (c) => esc(c.channels)]], list)}`;
  },
  async users() {
    const users = await api("GET", "/users");
    const permissions = await api("GET", "/permissions");
    return `<h2>Users</h2>${table([["Name", (u) => esc(u.name)], ["Tags", (u) => esc(u.tags.join(", "))]], users)}
      <h3>Add a user</h3><form id="add-user"><label>Name <input name="name" required></label><label>Password <input name="password" type="password" required></label><label>Tags <input name="tags"></label><button type="submit">Add user</button></form>
      <h2>Permissions</h2>${table([["User", (p) => esc(p.user)], ["Virtual host", (p) => esc(p.vhost)], ["Configure", (p) => esc(p.configure)], ["Write", (p) => esc(p.write)], ["Read", (p) => esc(p.read)]], permissions)}`;
  },
  async vhosts() {
    const list = await api("GET", "/vhosts");
    return `<h2>Virtual hosts</h2>${table([["Name", (v) => esc(v.name)], ["Messages", (v) => esc(v.messages)]], list)}
      <form id="add-vhost"><label>Name <input name="name" required></label><button type="submit">Add virtual host</button></form>`;
  },
  async definitions() {
    return `<h2>Definitions</h2><p><button id="export">Download definitions</button></p>
      <form id="import"><label>Definitions file <input type="file" name="file" accept=".json"></label><button type="submit">Upload definitions</button></form><p id="import-result"></p>`;
  },
};

const actions = {
  "add-queue": (f) => api("PUT", `/queues/${seg(f.vhost.value)}/${seg(f.name.value)}`, { durable: f.durable.value === "true" }),
  "add-user": (f) => api("PUT", `/users/${seg(f.name.value)}`, { password: f.password.value, tags: f.tags.value }),
  "add-vhost": (f) => api("PUT", `/vhosts/${seg(f.name.value)}`, {}),
  publish: (f, [vhost, name]) => api("POST", `/exchanges/${seg(vhost)}/amq.default/publish`, { properties: {}, routing_key: name, payload: f.payload.value, payload_encoding: "string" }),
  get: async (f, [vhost, name]) => {
    const messages = await api("POST", `/queues/${seg(vhost)}/${seg(name)}/get`, { count: Number(f.count.value), ackmode: f.ackmode.value, encoding: "auto", truncate: 50000 });
    sessionStorage.setItem("warren-got", JSON.stringify(messages));
  },
  purge: (f, [vhost, name]) => api("DELETE", `/queues/${seg(vhost)}/${seg(name)}/contents`),
  delete: async (f, [vhost, name]) => {
    await api("DELETE", `/queues/${seg(vhost)}/${seg(name)}`);
    location.hash = "#queues";
  },
  import: async (f) => {
    const text = await f.file.files[0].text();
    await api("POST", "/definitions", JSON.parse(text));
    document.getElementById("import-result").textContent = "Definitions imported.";
  },
};

async function render(fromTimer = false) {
  clearTimeout(refreshTimer);
  const [page, ...args] = (location.hash.slice(1) || "overview").split("/").map(decodeURIComponent);
  nav.innerHTML = ["overview", "connections", "exchanges", "queues", "users", "vhosts", "definitions"]
    .map((p) => `<a href="#${p}" class="${p === page ? "active" : ""}">${p}</a>`).join("");
  try {
    const focused = document.activeElement?.name;
    // A periodic refresh does not redraw under the user's typing.
    if (fromTimer && focused) return void (refreshTimer = setTimeout(() => render(true), 5000));
    main.innerHTML = await (pages[page] ?? pages.overview)(...args);
    const got = sessionStorage.getItem("warren-got");
    if (got && page === "queue") {
      document.getElementById("got").innerHTML = JSON.parse(got).map((m) => `<pre class="message">${esc(m.payload)}</pre>`).join("") || "<p>Queue is empty</p>";
    }
  } catch (error) {
    main.innerHTML = `<p class="error">${esc(error.message)}</p>`;
  }
  for (const form of main.querySelectorAll("form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await actions[form.id](form, args);
        if (form.id !== "get") sessionStorage.removeItem("warren-got");
        await render();
      } catch (error) {
        form.insertAdjacentHTML("beforeend", `<span class="error">${esc(error.message)}</span>`);
      }
    });
  }
  document.getElementById("export")?.addEventListener("click", () => {
    api("GET", "/definitions").then((defs) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(defs, null, 2)], { type: "application/json" }));
      link.download = "warren-definitions.json";
      link.click();
    });
  });
  refreshTimer = setTimeout(() => render(true), 5000); // live refresh
}

async function start() {
  const me = await api("GET", "/whoami");
  document.getElementById("whoami").textContent = `${me.name} (${me.tags.join(", ")})`;
  nav.hidden = false;
  window.addEventListener("hashchange", () => { sessionStorage.removeItem("warren-got"); render(); });
  await render();
}

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  auth = btoa(`${form.user.value}:${form.password.value}`);
  try {
    await start();
    sessionStorage.setItem("warren-auth", auth);
  } catch (error) {
    auth = null;
    document.getElementById("login-error").textContent = error.message;
  }
});

if (auth) start().catch(() => sessionStorage.removeItem("warren-auth"));
