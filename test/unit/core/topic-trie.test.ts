/** Topic matching as RabbitMQ does it, and the trie's route cache dropped on bind/unbind (CONVENTIONS.md #14). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TopicTrie } from "../../../src/core/exchanges/topic-trie.js";

const sorted = <T>(values: T[]): T[] => [...values].sort();
/** Which values match, each once (the vhost dedupes queues reached twice). */
const distinct = <T>(values: T[]): T[] => sorted([...new Set(values)]);

/** RabbitMQ's semantics, written the slow obvious way, to compare the trie against. */
function reference(pattern: string, key: string): boolean {
  const p = pattern === "" ? [] : pattern.split(".");
  const k = key === "" ? [] : key.split(".");
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === "#") return match(i + 1, j) || (j < k.length && match(i, j + 1));
    if (j === k.length) return false;
    return (p[i] === "*" || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

test("'*' matches exactly one word, '#' zero or more, '' is no words at all", () => {
  const cases: [string, string, boolean][] = [
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.c", false],
    ["a.#.c", "a.c", true],
    ["a.#.c", "a.b.b.c", true],
    ["#", "", true],
    ["*", "", false],
    ["#.#", "a", true],
    ["*.#", "a", true],
    ["#.*", "", false],
    ["a.#", "a", true],
    ["", "", true],
    ["", "a", false],
    ["a..b", "a..b", true],
    ["a.*.b", "a..b", true],
  ];
  for (const [pattern, key, expected] of cases) {
    assert.equal(reference(pattern, key), expected, `reference: ${pattern} ~ ${key}`);
    const trie = new TopicTrie<string>();
    trie.add(pattern, "v");
    assert.deepEqual(
      distinct(trie.match(key)),
      expected ? ["v"] : [],
      `${JSON.stringify(pattern)} ~ ${JSON.stringify(key)}`,
    );
  }
});

test("the trie agrees with the reference matcher on every pattern and key over a small alphabet", () => {
  const words = ["a", "b", "*", "#"];
  const patterns: string[] = [""];
  for (let length = 1; length <= 3; length++) {
    const next: string[][] = [[]];
    for (let i = 0; i < length; i++)
      next.splice(0, next.length, ...next.flatMap((prefix) => words.map((w) => [...prefix, w])));
    patterns.push(...next.map((parts) => parts.join(".")));
  }
  const keys = ["", "a", "b", "a.a", "a.b", "b.a", "a.b.a", "a.a.a.a", "b.b.b"];
  const trie = new TopicTrie<string>();
  for (const pattern of patterns) trie.add(pattern, pattern);
  for (const key of keys) {
    assert.deepEqual(
      distinct(trie.match(key)),
      sorted(patterns.filter((p) => reference(p, key))),
      `key ${JSON.stringify(key)}`,
    );
  }
});

test("a binding added after a key was matched (and cached) is seen by the next match", () => {
  const trie = new TopicTrie<string>();
  trie.add("a.*", "first");
  assert.deepEqual(trie.match("a.b"), ["first"]);
  trie.add("#.b", "second");
  assert.deepEqual(sorted(trie.match("a.b")), ["first", "second"]);
  trie.add("a.b", "third");
  assert.deepEqual(sorted(trie.match("a.b")), ["first", "second", "third"]);
});

test("a binding removed after a key was matched (and cached) is gone from the next match", () => {
  const trie = new TopicTrie<string>();
  trie.add("a.#", "x");
  trie.add("*.b", "y");
  assert.deepEqual(sorted(trie.match("a.b")), ["x", "y"]);
  trie.remove("a.#", "x");
  assert.deepEqual(trie.match("a.b"), ["y"]);
  trie.remove("*.b", "y");
  assert.deepEqual(trie.match("a.b"), []);
  // Removing what is not there changes nothing (and does not throw).
  trie.remove("*.b", "y");
  trie.remove("never.bound", "z");
  assert.deepEqual(trie.match("a.b"), []);
});

test("one value bound by two matching patterns appears twice; removing one pattern leaves the other", () => {
  const trie = new TopicTrie<string>();
  trie.add("a.*", "q");
  trie.add("#", "q");
  assert.deepEqual(trie.match("a.b"), ["q", "q"]);
  trie.remove("#", "q");
  assert.deepEqual(trie.match("a.b"), ["q"]);
});

test("the cache stays bounded and correct past its size limit", () => {
  const trie = new TopicTrie<number>();
  trie.add("k.*", 1);
  for (let i = 0; i < 10_000; i++) assert.deepEqual(trie.match(`k.${i}`), [1]);
  trie.add("k.42", 2);
  assert.deepEqual(sorted(trie.match("k.42")), [1, 2]);
  assert.deepEqual(trie.match("k.43"), [1]);
});

test("a pattern with several '#' matches a long key once, in time linear in the key", () => {
  const trie = new TopicTrie<string>();
  trie.add("#.#.#.#", "q");
  trie.add("#.a.#.a.#", "r");
  assert.deepEqual(trie.match(Array(40).fill("a").join(".")), ["q", "r"]);
});
