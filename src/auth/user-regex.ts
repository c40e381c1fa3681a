/**
 * Regular expressions that users supply: permission patterns, policy and
 * operator-policy patterns, the API's `name` filter with `use_regex=true`.
 * They run in RE2's linear time (re2js, a pure-JS port of RE2/J) and never
 * on V8's backtracking engine: with `(a+)+$` against 30 "a" and a "!", V8
 * took 96 s and stalled every protocol on the one event loop.
 *
 * RE2 accepts the PCRE subset operators use (classes, anchors, groups,
 * alternation, (?i), lazy quantifiers, repeats up to 1000); it refuses
 * backreferences and lookarounds, which are then invalid patterns with the
 * same error as any other invalid pattern. Matching is unanchored, like
 * Erlang's re:run that RabbitMQ uses.
 */
import { createRequire } from "node:module";
import type * as Re2js from "re2js";
import type { RE2JS } from "re2js";

/**
 * re2js builds its Unicode tables when its module is evaluated (10–20 ms of
 * an embedded broker's cold start, issue 15), and a broker whose patterns
 * are all ".*" never compiles one: it is loaded at the first compilation.
 * scripts/bundle.ts bundles `requireOnDemand(...)` as a lazy require().
 */
const requireOnDemand = createRequire(import.meta.url);
let re2jsClass: typeof RE2JS | null = null;
const re2js = (): typeof RE2JS => (re2jsClass ??= (requireOnDemand("re2js") as typeof Re2js).RE2JS);

/**
 * Compiling is linear in the pattern but not free (a 10,000-character
 * alternation costs ~200 ms); no operator pattern comes near this.
 */
export const MAX_USER_REGEX_LENGTH = 4096;

export class InvalidUserRegex extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(reason);
    this.name = "InvalidUserRegex";
  }
}

export interface UserRegexOptions {
  caseInsensitive?: boolean;
}

/**
 * Recent answers per pattern: a permission is checked on every publish, and
 * a publisher sends to few names (RabbitMQ's channel likewise caches its
 * permission checks). Cleared when full, so it stays small.
 */
const MEMO_LIMIT = 32;
/**
 * Compilations shared by every caller, refusals included (a definitions file
 * may hold a pattern RE2 refuses, checked on every publish); the bound only
 * guards against a stream of distinct patterns.
 */
const CACHE_LIMIT = 1024;
const cache = new Map<string, UserRegex | InvalidUserRegex>();

export class UserRegex {
  private readonly memo = new Map<string, boolean>();

  private constructor(
    readonly source: string,
    /** null: the pattern matches every string (".*", the usual full permission). */
    private readonly re: RE2JS | null,
  ) {}

  /** Compiles `pattern` (or returns the cached compilation); throws InvalidUserRegex. */
  static compile(pattern: string, options: UserRegexOptions = {}): UserRegex {
    const key = `${options.caseInsensitive === true ? "i" : "-"}${pattern}`;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      try {
        compiled = new UserRegex(pattern, pattern === ".*" ? null : compileRe2(pattern, options));
      } catch (error) {
        if (!(error instanceof InvalidUserRegex)) throw error;
        compiled = error;
      }
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, compiled);
    }
    if (compiled instanceof InvalidUserRegex) throw compiled;
    return compiled;
  }

  /** As compile, but null for an invalid pattern. */
  static tryCompile(pattern: string, options: UserRegexOptions = {}): UserRegex | null {
    try {
      return UserRegex.compile(pattern, options);
    } catch (error) {
      if (error instanceof InvalidUserRegex) return null;
      throw error;
    }
  }

  /** Whether the pattern matches anywhere in `input`. */
  test(input: string): boolean {
    if (this.re === null) return true;
    const known = this.memo.get(input);
    if (known !== undefined) return known;
    const result = this.re.test(input);
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(input, result);
    return result;
  }
}

function compileRe2(pattern: string, options: UserRegexOptions): RE2JS {
  if (pattern.length > MAX_USER_REGEX_LENGTH) {
    throw new InvalidUserRegex(pattern, `longer than ${MAX_USER_REGEX_LENGTH} characters`);
  }
  try {
    const RE2 = re2js();
    return RE2.compile(pattern, options.caseInsensitive === true ? RE2.CASE_INSENSITIVE : 0);
  } catch (error) {
    throw new InvalidUserRegex(pattern, error instanceof Error ? error.message : String(error));
  }
}
