// ESLint flat config: typescript-eslint with type information (projectService
// reads tsconfig.json), for src, test, scripts, examples and bench/*.ts.
// `npm run lint` runs it and `prettier --check`; formatting itself is
// Prettier's (.prettierrc.json), so no stylistic rules here.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "ui/**", "bench/**/*.mjs", "data/**", "**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/consistent-type-exports": "error",
      "@typescript-eslint/no-import-type-side-effects": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // `cond ? a() : b()` and `x && f()` as statements are a habit of this code base (channel-stats, publish).
      "@typescript-eslint/no-unused-expressions": ["error", { allowTernary: true, allowShortCircuit: true }],
      // Protocol validators match control characters on purpose (MQTT topics: U+0000; STOMP header values).
      "no-control-regex": "off",
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    // CONVENTIONS.md #1: no source file past ~500 lines (generated code excepted).
    files: ["src/**/*.ts"],
    ignores: ["src/amqp/codec/generated.ts"],
    rules: { "max-lines": ["error", { max: 500, skipBlankLines: false, skipComments: false }] },
  },
  {
    // node:test's test()/describe()/it() return promises the runner itself awaits.
    files: ["test/**/*.ts"],
    rules: {
      // The fixtures take async callbacks (useBroker's afterStart, withBrokerOn, store factories, before()):
      // a body that happens to need no await still has to return a promise, so `async` there is not a slip.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "describe", "it", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
    },
  },
);
