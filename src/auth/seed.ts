/**
 * RabbitMQ's first-start user: on a fresh database it creates default_user
 * (guest/guest) tagged administrator, with full permissions on the default
 * vhost. Call only when no definitions were recovered, so that an operator
 * who deleted guest does not see it come back.
 */
import { DEFAULTS } from "../config/defaults.js";
import type { UserRegistry } from "./users.js";

export interface DefaultUserOptions {
  user?: string;
  pass?: string;
  vhost?: string;
}

export function seedDefaultUser(registry: UserRegistry, options: DefaultUserOptions = {}): void {
  const name = options.user ?? DEFAULTS.defaultUser;
  if (registry.hasUser(name)) return;
  registry.addUser(name, options.pass ?? DEFAULTS.defaultPass, DEFAULTS.defaultUserTags);
  registry.setPermissions(name, options.vhost ?? DEFAULTS.defaultVhost, { ...DEFAULTS.defaultPermissions });
}
