// Warren's management UI: a small single page over RabbitMQ's /api (the same calls rabbitmqadmin makes).
import { api, esc, state } from "./lib.js";
import * as overview from "./pages/overview.js";
import * as queues from "./pages/queues.js";
import * as exchanges from "./pages/exchanges.js";
import * as connections from "./pages/connections.js";
import * as admin from "./pages/admin.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const errors = document.getElementById("errors");
const vhostSelect = document.getElementById("vhost-select");
const refreshSelect = document.getElementById("refresh-select");

/** hash → page module; each exports render(...args) → HTML, and optional actions/clicks keyed by form id / data-action. */
const pages = {
  overview: overview.overview,
  connections: connections.connections,
  connection: connections.connection,
  channels: connections.channels,
  exchanges: exchanges.exchanges,
  exchange: exchanges.exchange,
  queues: queues.queues,
  queue: queues.queue,
  users: admin.users,
  user: admin.user,
  vhosts: admin.vhosts,
  policies: admin.policies,
  limits: admin.limits,
  "feature-flags": admin.featureFlags,
  definitions: admin.definitions,
};
/** The nav's entries; a detail page marks its list's entry as current. */
const NAV = ["overview", "connections", "channels", "exchanges", "queues", "users", "vhosts", "policies", "limits", "feature-flags", "definitions"];
const PARENT = { connection: "connections", exchange: "exchanges", queue: "queues", user: "users" };

let refreshTimer = null;
let refreshMs = Number(sessionStorage.getItem("warren-refresh") ?? 5000);
refreshSelect.value = String(refreshMs);

export function showError(message) {
  errors.textContent = message;
}

function route() {
  const [name, ...args] = (location.hash.slice(1).split("?")[0] || "overview").split("/").map(decodeURIComponent);
  return { name: pages[name] ? name : "overview", args };
}

/**
 * An automatic refresh waits while the operator is typing or choosing in the
 * page (focus in a form field) or has text selected: redrawing would take the
 * focus and the half-typed value away.
 */
function busy() {
  const focused = document.activeElement;
  if (focused && main.contains(focused) && /^(INPUT|SELECT|TEXTAREA)$/.test(focused.tagName)) return true;
  return String(window.getSelection?.() ?? "") !== "";
}

function schedule() {
  clearTimeout(refreshTimer);
  if (refreshMs > 0) refreshTimer = setTimeout(() => render(true), refreshMs);
}

let refreshes = 0;

export async function render(fromTimer = false) {
  clearTimeout(refreshTimer);
  // Counted so that a test can wait for a refresh instead of sleeping.
  if (fromTimer) document.body.dataset.refreshes = String(++refreshes);
  const { name, args } = route();
  const current = PARENT[name] ?? name;
  nav.innerHTML = NAV.map((p) => `<a href="#${p}" ${p === current ? 'aria-current="page"' : ""}>${p.replace("-", " ")}</a>`).join("");
  if (fromTimer && busy()) return schedule();
  const page = pages[name];
  try {
    const html = await page.render(...args);
    if (fromTimer && busy()) return schedule();
    main.innerHTML = html;
    if (!fromTimer) errors.textContent = "";
    page.after?.(main, args);
  } catch (error) {
    showError(error.message);
    if (!fromTimer) main.innerHTML = "";
  }
  wire(page, args);
  schedule();
}

function wire(page, args) {
  for (const form of main.querySelectorAll("form")) {
    const action = page.actions?.[form.id];
    if (!action) continue;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const outcome = await action(form, args);
        errors.textContent = "";
        if (outcome !== "keep") await render();
      } catch (error) {
        showError(error.message);
      }
    });
  }
  for (const button of main.querySelectorAll("button[data-action], select[data-action]")) {
    const handler = page.clicks?.[button.dataset.action];
    if (!handler) continue;
    button.addEventListener(button.tagName === "SELECT" ? "change" : "click", async () => {
      try {
        const outcome = await handler(button, args);
        if (outcome !== "keep") await render();
      } catch (error) {
        showError(error.message);
      }
    });
  }
}

async function fillVhosts() {
  const list = await api("GET", "/vhosts");
  vhostSelect.innerHTML = `<option value="">All</option>` + list.map((v) => `<option ${v.name === state.vhost ? "selected" : ""}>${esc(v.name)}</option>`).join("");
}

vhostSelect.addEventListener("change", () => {
  state.vhost = vhostSelect.value;
  sessionStorage.setItem("warren-vhost", state.vhost);
  render();
});
refreshSelect.addEventListener("change", () => {
  refreshMs = Number(refreshSelect.value);
  sessionStorage.setItem("warren-refresh", String(refreshMs));
  schedule();
});
document.getElementById("logout").addEventListener("click", () => {
  sessionStorage.clear();
  location.hash = "";
  location.reload();
});

async function start() {
  const me = await api("GET", "/whoami");
  document.getElementById("whoami").textContent = `${me.name} (${me.tags.join(", ")})`;
  nav.hidden = false;
  document.getElementById("controls").hidden = false;
  await fillVhosts();
  window.addEventListener("hashchange", () => render());
  await render();
}

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  state.auth = btoa(`${form.user.value}:${form.password.value}`);
  try {
    await start();
    sessionStorage.setItem("warren-auth", state.auth);
  } catch (error) {
    state.auth = null;
    document.getElementById("login-error").textContent = error.message;
  }
});

if (state.auth) start().catch(() => sessionStorage.removeItem("warren-auth"));
