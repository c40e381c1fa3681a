// Hand-rolled SVG line charts (no library: a few polylines, and SVG presentation attributes pass the CSP that forbids inline styles).
import { esc } from "../lib.js";

const COLORS = ["#e66c00", "#2c7fb8", "#41ab5d", "#9e4fa8", "#d7301f", "#737373", "#c9a300"];
const W = 600, H = 140;

/** samples: [{ t, values: { series: number } }], series: [[key, label]], windowMs: what the x axis spans. */
export function lineChart(id, title, samples, series, windowMs, unit = "") {
  const now = Date.now();
  const shown = samples.filter((s) => s.t >= now - windowMs);
  const max = Math.max(1, ...shown.flatMap((s) => series.map(([k]) => s.values[k] ?? 0)));
  const x = (t) => ((t - (now - windowMs)) / windowMs) * W;
  const y = (v) => H - 4 - (v / max) * (H - 18);
  const lines = series.map(([key], i) => {
    const points = shown.map((s) => `${x(s.t).toFixed(1)},${y(s.values[key] ?? 0).toFixed(1)}`).join(" ");
    return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${points}"/>`;
  }).join("");
  const latest = shown[shown.length - 1]?.values ?? {};
  const legend = series.map(([key, label], i) => `<span><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${COLORS[i % COLORS.length]}"/></svg> ${esc(label)} <b>${esc(fmt(latest[key]))}${esc(unit)}</b></span>`).join("");
  return `<figure class="chart" id="${esc(id)}"><figcaption>${esc(title)}</figcaption>
    <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${esc(title)}">
      <text x="4" y="12" font-size="11" fill="#666">${esc(fmt(max))}${esc(unit)}</text>
      <line x1="0" y1="${H - 4}" x2="${W}" y2="${H - 4}" stroke="#ccc"/>${lines}</svg>
    <div class="legend">${legend}</div></figure>`;
}

/**
 * Appends a sample to the history of `owner` kept under `key` in sessionStorage (an
 * hour at most, so a page change keeps it) and returns the history: Warren's
 * API answers current rates, not RabbitMQ's sample history (lengths_age/msg_rates_age).
 */
export function record(key, values, owner = "") {
  const kept = JSON.parse(sessionStorage.getItem(key) ?? "null");
  // one owner per key (the queue whose page it is), so that sessionStorage holds one queue's hour, not every visited queue's
  const history = kept?.owner === owner ? kept.samples.filter((s) => s.t > Date.now() - 3600000) : [];
  history.push({ t: Date.now(), values });
  sessionStorage.setItem(key, JSON.stringify({ owner, samples: history }));
  return history;
}

export const WINDOWS = [["60000", "Last minute"], ["600000", "Last ten minutes"], ["3600000", "Last hour"]];
const WINDOW = "warren-window";
export const chartWindow = () => Number(sessionStorage.getItem(WINDOW) ?? 600000);

/** The window selector; its data-action "window" is handled by `setWindow`. */
export const windowSelect = () => `<p><label class="inline">Chart window <select data-action="window" id="chart-window">${WINDOWS.map(([v, l]) => `<option value="${v}" ${Number(v) === chartWindow() ? "selected" : ""}>${l}</option>`).join("")}</select></label></p>`;
export const setWindow = (select) => { sessionStorage.setItem(WINDOW, select.value); };

const fmt = (v) => (v === undefined ? "—" : Number.isInteger(v) ? String(v) : v.toFixed(1));
