const AGE_UNIT_MS: Record<string, number> = {
  Y: 365 * 86_400_000,
  M: 30 * 86_400_000,
  D: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

/** An x-max-age / max-age value (`7D`, `1h`, `30s`: rabbit_amqqueue:check_max_age) in ms, or null when malformed. */
export function parseAge(value: string): number | null {
  const match = /^([0-9]+)([YMDhms])$/.exec(value);
  if (match === null) return null;
  return Number(match[1]) * (AGE_UNIT_MS[match[2] as string] as number);
}
