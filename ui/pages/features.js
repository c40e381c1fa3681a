// The Features column as RabbitMQ's UI shows it (rabbitmq_management's queues.ejs / fmt_features).
import { esc } from "../lib.js";

/** argument or policy key → [badge, what it means]; a policy key counts as the argument does. */
const FEATURES = [
  ["x-message-ttl", "message-ttl", "TTL", "Message TTL"],
  ["x-expires", "expires", "Exp", "Auto expire"],
  ["x-max-length", "max-length", "Lim", "Max length"],
  ["x-max-length-bytes", "max-length-bytes", "Lim B", "Max length bytes"],
  ["x-dead-letter-exchange", "dead-letter-exchange", "DLX", "Dead letter exchange"],
  ["x-dead-letter-routing-key", "dead-letter-routing-key", "DLK", "Dead letter routing key"],
  ["x-max-priority", null, "Pri", "Maximum priority"],
  ["x-overflow", "overflow", "Ovfl", "Overflow behaviour"],
  ["x-single-active-consumer", null, "SAC", "Single active consumer"],
  ["x-queue-mode", "queue-mode", "Lazy", "Queue mode"],
];

const badge = (label, title, value, extra = "") => `<abbr class="badge ${extra}" title="${esc(title)}${value === undefined ? "" : `: ${esc(typeof value === "object" ? JSON.stringify(value) : value)}`}">${esc(label)}</abbr>`;

export function features(item, kind = "queue") {
  const out = [];
  if (item.durable) out.push(badge("D", "durable"));
  if (item.auto_delete) out.push(badge("AD", "auto-delete"));
  if (item.exclusive) out.push(badge("Excl", "exclusive"));
  if (item.internal) out.push(badge("I", "internal"));
  const args = item.arguments ?? {};
  const policy = item.effective_policy_definition ?? {};
  for (const [arg, key, label, title] of FEATURES) {
    if (arg in args) out.push(badge(label, `${title} (argument)`, args[arg]));
    else if (key && key in policy) out.push(badge(label, `${title} (policy)`, policy[key]));
  }
  if (args["alternate-exchange"] !== undefined) out.push(badge("AE", "Alternate exchange", args["alternate-exchange"]));
  if (item.policy) out.push(badge(item.policy, "Policy", undefined, "policy"));
  if (kind === "queue" && item.type) out.push(`<span class="type">${esc(item.type)}</span>`);
  return out.join("");
}
