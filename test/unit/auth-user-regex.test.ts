import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidUserRegex, MAX_USER_REGEX_LENGTH, UserRegex } from "../../src/auth/user-regex.js";

test("patterns match unanchored, as Erlang's re:run; anchors are the pattern's own", () => {
  assert.equal(UserRegex.compile("gen").test("amq.gen-abc"), true);
  assert.equal(UserRegex.compile("^gen").test("amq.gen-abc"), false);
  assert.equal(UserRegex.compile("^amq\\.gen.*").test("amq.gen-abc"), true);
  assert.equal(UserRegex.compile(".*").test(""), true);
  assert.equal(UserRegex.compile("^$").test(""), true);
  assert.equal(UserRegex.compile("^$").test("x"), false);
});

test("case-insensitive compilation is its own (the API name filter), and (?i) works inline", () => {
  assert.equal(UserRegex.compile("^delta").test("Delta"), false);
  assert.equal(UserRegex.compile("^delta", { caseInsensitive: true }).test("Delta"), true);
  assert.equal(UserRegex.compile("(?i)^delta").test("DELTA"), true);
});

test("a catastrophic-backtracking pattern answers (RE2 runs in linear time)", () => {
  const re = UserRegex.compile("(a+)+$");
  assert.equal(re.test(`${"a".repeat(10_000)}!`), false);
  assert.equal(re.test("a".repeat(10_000)), true);
});

test("backreferences, lookarounds, bad syntax and over-long patterns are invalid", () => {
  for (const pattern of [
    "(a)\\1",
    "a(?=b)",
    "a(?!b)",
    "(?<=a)b",
    "(",
    "[a",
    "a{1001}",
    "x".repeat(MAX_USER_REGEX_LENGTH + 1),
  ]) {
    assert.throws(() => UserRegex.compile(pattern), InvalidUserRegex, pattern.slice(0, 20));
    assert.equal(UserRegex.tryCompile(pattern), null);
  }
  assert.ok(UserRegex.tryCompile("x".repeat(MAX_USER_REGEX_LENGTH)));
});

test("remembered answers never change an answer, past the memo's size too", () => {
  const re = UserRegex.compile("^q-[0-9]+$");
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 100; i++) {
      assert.equal(re.test(`q-${i}`), true);
      assert.equal(re.test(`q-${i}x`), false);
    }
  }
});
