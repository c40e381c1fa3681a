/**
 * Brute-force damping (issue 11: 800-1,300 password tries a second on one
 * connection). Per source address, consecutive failed logins space out the
 * next attempts: an attempt from an address with recent failures waits
 * (admit) before its credentials are checked — 50 ms after one failure,
 * doubling up to `maxDelayMs` — and parallel attempts queue one delay apart,
 * so opening many connections does not multiply the rate (delaying only the
 * refusal would not: a right guess would still be answered at once). A
 * success or a quiet spell of `forgetAfterMs` resets the count. Callers wait
 * with a timer, never blocking the event loop, and close the connection
 * after a refusal. Failures are logged at warn with the address, at most
 * once per `logIntervalMs` per address with how many were not logged in
 * between, so a flood does not flood the log.
 */
import { silentLogger, type Logger } from "../log.js";

export interface FailedLoginOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
  logIntervalMs: number;
  /** Addresses tracked at once; the least recently failed is forgotten first. */
  maxAddresses: number;
}

export const FAILED_LOGIN_DEFAULTS: FailedLoginOptions = {
  // 50 ms, 100, 200 … 3.2 s: a typo costs nothing noticeable, a dictionary run from one address ~3 s a try.
  baseDelayMs: 50,
  maxDelayMs: 3200,
  forgetAfterMs: 60_000,
  logIntervalMs: 10_000,
  maxAddresses: 10_000,
};

/** What the log says about one failure. */
export interface FailedLogin {
  protocol: string;
  user: string;
  reason: string;
}

interface AddressRecord {
  failures: number;
  lastFailure: number;
  /** When the next attempt from the address may be checked (ms since the epoch). */
  nextAt: number;
  lastLogged: number;
  unlogged: number;
}

export class FailedLogins {
  private readonly byAddress = new Map<string, AddressRecord>();
  private readonly options: FailedLoginOptions;
  logger: Logger = silentLogger();

  constructor(options: Partial<FailedLoginOptions> = {}) {
    this.options = { ...FAILED_LOGIN_DEFAULTS, ...options };
  }

  /**
   * How long an attempt from `address` must wait before its credentials are
   * checked, ms (0 without recent failures); reserves its turn, so the next
   * parallel attempt waits one delay more.
   */
  admit(address: string, now = Date.now()): number {
    const record = this.byAddress.get(address);
    if (record === undefined || now - record.lastFailure > this.options.forgetAfterMs) return 0;
    const at = Math.max(now, record.nextAt);
    record.nextAt = at + this.delayFor(record.failures);
    return at - now;
  }

  /** Records a failed login from `address`; returns the delay the next attempt from it will wait, ms. */
  failed(address: string, login: FailedLogin, now = Date.now()): number {
    let record = this.byAddress.get(address);
    if (record !== undefined && now - record.lastFailure > this.options.forgetAfterMs) record = undefined;
    if (record === undefined) {
      record = { failures: 0, lastFailure: now, nextAt: now, lastLogged: 0, unlogged: 0 };
      if (this.byAddress.size >= this.options.maxAddresses) this.forgetOldest();
    }
    // Map order is recency order: re-inserted on every failure.
    this.byAddress.delete(address);
    this.byAddress.set(address, record);
    record.failures++;
    record.lastFailure = now;
    const delay = this.delayFor(record.failures);
    record.nextAt = Math.max(record.nextAt, now + delay);
    if (record.lastLogged === 0 || now - record.lastLogged >= this.options.logIntervalMs) {
      this.logger.warn(
        {
          remote: address,
          protocol: login.protocol,
          user: login.user,
          reason: login.reason,
          failures: record.failures,
          notLogged: record.unlogged,
        },
        "login failed",
      );
      record.lastLogged = now;
      record.unlogged = 0;
    } else {
      record.unlogged++;
    }
    return delay;
  }

  succeeded(address: string): void {
    this.byAddress.delete(address);
  }

  /** The delay after `failures` consecutive failures: base, 2×base, 4×base … capped. */
  delayFor(failures: number): number {
    const { baseDelayMs, maxDelayMs } = this.options;
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - 1, 30));
  }

  private forgetOldest(): void {
    const oldest = this.byAddress.keys().next();
    if (!oldest.done) this.byAddress.delete(oldest.value);
  }
}
