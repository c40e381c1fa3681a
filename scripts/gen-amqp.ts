/**
 * Generates src/amqp/codec/generated.ts (method types, decoders, encoders)
 * from RabbitMQ's AMQP 0-9-1 spec JSON.
 *
 *   npm run gen:amqp      (= tsc, then node dist/scripts/gen-amqp.js)
 */
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SPEC_PATH = "spec/amqp-rabbitmq-0.9.1.json";
const OUTPUT_PATH = "src/amqp/codec/generated.ts";

export type PrimitiveType =
  "bit" | "octet" | "short" | "long" | "longlong" | "shortstr" | "longstr" | "table" | "timestamp";

const PRIMITIVES: ReadonlySet<string> = new Set([
  "bit",
  "octet",
  "short",
  "long",
  "longlong",
  "shortstr",
  "longstr",
  "table",
  "timestamp",
]);

export interface ArgModel {
  /** The spec's name, e.g. "auto-delete". */
  readonly specName: string;
  /** The TypeScript field name, e.g. "autoDelete". */
  readonly name: string;
  readonly type: PrimitiveType;
  /** ConnectionStartOk.response: raw bytes (SASL responses are binary). */
  readonly binary: boolean;
}

export interface MethodModel {
  readonly className: string;
  readonly methodName: string;
  /** "queue.declare" */
  readonly fullName: string;
  readonly classId: number;
  readonly methodId: number;
  /** classId << 16 | methodId */
  readonly id: number;
  /** "QUEUE_DECLARE" */
  readonly constName: string;
  /** "QueueDeclare" */
  readonly typeName: string;
  readonly content: boolean;
  readonly synchronous: boolean;
  readonly args: readonly ArgModel[];
}

export interface ConstantModel {
  readonly specName: string;
  readonly constName: string;
  readonly value: number;
  readonly errorClass: "soft-error" | "hard-error" | null;
}

export interface SpecModel {
  readonly copyright: string;
  readonly classes: readonly { name: string; id: number }[];
  readonly methods: readonly MethodModel[];
  readonly constants: readonly ConstantModel[];
}

/**
 * RabbitMQ's spec JSON keeps AMQP 0-8 names for arguments that 0-9-1
 * reserves; these take their 0-9-1 names (`ticket` → reserved-1, `nowait` →
 * no-wait, ...). exchange.declare's auto-delete and internal keep their names:
 * 0-9-1 reserves them but RabbitMQ implements both.
 */
const ARG_RENAMES: Readonly<Record<string, string>> = {
  ticket: "reserved-1",
  nowait: "no-wait",
  "connection.open capabilities": "reserved-1",
  "connection.open insist": "reserved-2",
  "connection.open-ok known-hosts": "reserved-1",
  "channel.open out-of-band": "reserved-1",
  "channel.open-ok channel-id": "reserved-1",
  "basic.get-empty cluster-id": "reserved-1",
};

function argName(fullName: string, specName: string): string {
  return camel(ARG_RENAMES[`${fullName} ${specName}`] ?? ARG_RENAMES[specName] ?? specName);
}

function fail(what: string): never {
  throw new Error(`gen-amqp: malformed spec: ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what} is not an array`);
  return v;
}

function asString(v: unknown, what: string): string {
  if (typeof v !== "string") fail(`${what} is not a string`);
  return v;
}

function asInt(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) fail(`${what} is not an integer`);
  return v;
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function pascal(name: string): string {
  const c = camel(name);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

function upperSnake(name: string): string {
  return name.replace(/-/g, "_").toUpperCase();
}

/** Parses and validates RabbitMQ's spec JSON into the model the generator works from. */
export function buildSpecModel(specJson: unknown): SpecModel {
  if (!isRecord(specJson)) fail("top level is not an object");
  const copyright = asArray(specJson["copyright"], "copyright")
    .map((l, i) => asString(l, `copyright[${i}]`))
    .join("");

  const domains = new Map<string, PrimitiveType>();
  for (const [i, d] of asArray(specJson["domains"], "domains").entries()) {
    const pair = asArray(d, `domains[${i}]`);
    const name = asString(pair[0], `domains[${i}][0]`);
    const type = asString(pair[1], `domains[${i}][1]`);
    if (!PRIMITIVES.has(type)) fail(`domain ${name} has unknown type ${type}`);
    domains.set(name, type as PrimitiveType);
  }

  const constants: ConstantModel[] = [];
  for (const [i, c] of asArray(specJson["constants"], "constants").entries()) {
    if (!isRecord(c)) fail(`constants[${i}] is not an object`);
    const specName = asString(c["name"], `constants[${i}].name`);
    const cls = c["class"];
    constants.push({
      specName,
      constName: upperSnake(specName),
      value: asInt(c["value"], `constants[${i}].value`),
      errorClass: cls === "soft-error" || cls === "hard-error" ? cls : null,
    });
  }

  const classes: { name: string; id: number }[] = [];
  const methods: MethodModel[] = [];
  for (const [ci, c] of asArray(specJson["classes"], "classes").entries()) {
    if (!isRecord(c)) fail(`classes[${ci}] is not an object`);
    const className = asString(c["name"], `classes[${ci}].name`);
    const classId = asInt(c["id"], `classes[${ci}].id`);
    classes.push({ name: className, id: classId });
    for (const [mi, m] of asArray(c["methods"], `${className}.methods`).entries()) {
      if (!isRecord(m)) fail(`${className}.methods[${mi}] is not an object`);
      const methodName = asString(m["name"], `${className}.methods[${mi}].name`);
      const fullName = `${className}.${methodName}`;
      const methodId = asInt(m["id"], `${fullName}.id`);
      const args: ArgModel[] = [];
      for (const [ai, a] of asArray(m["arguments"], `${fullName}.arguments`).entries()) {
        if (!isRecord(a)) fail(`${fullName}.arguments[${ai}] is not an object`);
        const specName = asString(a["name"], `${fullName}.arguments[${ai}].name`);
        let type: PrimitiveType | undefined;
        if (typeof a["type"] === "string") {
          if (!PRIMITIVES.has(a["type"])) fail(`${fullName}.${specName} has unknown type ${a["type"]}`);
          type = a["type"] as PrimitiveType;
        } else {
          const domain = asString(a["domain"], `${fullName}.${specName}.domain`);
          type = domains.get(domain) ?? fail(`${fullName}.${specName} has unknown domain ${domain}`);
        }
        const name = argName(fullName, specName);
        if (name === "method" || args.some((x) => x.name === name)) fail(`${fullName} has a clashing argument ${name}`);
        const binary = fullName === "connection.start-ok" && specName === "response";
        args.push({ specName, name, type, binary });
      }
      methods.push({
        className,
        methodName,
        fullName,
        classId,
        methodId,
        id: ((classId << 16) | methodId) >>> 0,
        constName: `${upperSnake(className)}_${upperSnake(methodName)}`,
        typeName: `${pascal(className)}${pascal(methodName)}`,
        content: m["content"] === true,
        synchronous: m["synchronous"] === true,
        args,
      });
    }
  }

  const names = new Set<string>();
  for (const n of [...methods.map((m) => m.constName), ...constants.map((c) => c.constName)]) {
    if (names.has(n)) fail(`duplicate generated name ${n}`);
    names.add(n);
  }
  return { copyright, classes, methods, constants };
}

function hex(id: number): string {
  return `0x${id.toString(16).padStart(8, "0")}`;
}

const FIXED_SIZE: Readonly<Record<PrimitiveType, number>> = {
  bit: 0,
  octet: 1,
  short: 2,
  long: 4,
  longlong: 8,
  timestamp: 8,
  shortstr: 1,
  longstr: 4,
  table: 4,
};

function tsType(a: ArgModel): string {
  if (a.binary) return "Buffer";
  switch (a.type) {
    case "bit":
      return "boolean";
    case "shortstr":
    case "longstr":
      return "string";
    case "table":
      return "FieldTable";
    default:
      return "number";
  }
}

/** Consecutive bit arguments share octets, 8 to an octet, first bit in the least significant position. */
type Field = { kind: "bits"; args: ArgModel[] } | { kind: "scalar"; arg: ArgModel };

function fieldsOf(m: MethodModel): Field[] {
  const out: Field[] = [];
  for (const a of m.args) {
    const last = out[out.length - 1];
    if (a.type === "bit") {
      if (last !== undefined && last.kind === "bits" && last.args.length < 8) last.args.push(a);
      else out.push({ kind: "bits", args: [a] });
    } else {
      out.push({ kind: "scalar", arg: a });
    }
  }
  return out;
}

function fieldSize(f: Field): number {
  return f.kind === "bits" ? 1 : FIXED_SIZE[f.arg.type];
}

function isVariable(f: Field): boolean {
  return f.kind === "scalar" && (f.arg.type === "shortstr" || f.arg.type === "longstr" || f.arg.type === "table");
}

function genDecoder(m: MethodModel): string[] {
  const fields = fieldsOf(m);
  const L: string[] = [];
  L.push(`function decode${m.typeName}(b: Buffer, p: number, end: number): ${m.typeName} {`);
  const props: string[] = [`method: ${m.constName}`];
  // bytes that must be present from p onwards before the next check: fixed
  // fields and length prefixes up to and including the next variable field's prefix
  const checkAhead = (from: number): number => {
    let n = 0;
    for (let i = from; i < fields.length; i++) {
      const f = fields[i]!;
      n += fieldSize(f);
      if (isVariable(f)) break;
    }
    return n;
  };
  let local = 0;
  let bitsVar = 0;
  const fail = `cannotDecode(${m.constName}, b, start, end)`;
  L.push(`  const start = p;`);
  const first = checkAhead(0);
  if (first > 0) L.push(`  if (p + ${first} > end) throw ${fail};`);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.kind === "bits") {
      const v = `bits${bitsVar++}`;
      L.push(`  const ${v} = b[p]!;`);
      L.push(`  p += 1;`);
      f.args.forEach((a, bit) => props.push(`${a.name}: (${v} & ${1 << bit}) !== 0`));
      continue;
    }
    const a = f.arg;
    const v = `f${local++}`;
    props.push(`${a.name}: ${v}`);
    switch (a.type) {
      case "octet":
        L.push(`  const ${v} = b[p]!;`);
        L.push(`  p += 1;`);
        break;
      case "short":
        L.push(`  const ${v} = readU16(b, p);`);
        L.push(`  p += 2;`);
        break;
      case "long":
        L.push(`  const ${v} = readU32(b, p);`);
        L.push(`  p += 4;`);
        break;
      case "longlong":
      case "timestamp":
        L.push(`  const ${v} = readU64(b, p);`);
        L.push(`  p += 8;`);
        break;
      case "shortstr":
      case "longstr":
      case "table": {
        const prefix = FIXED_SIZE[a.type];
        const ahead = checkAhead(i + 1);
        const n = `n${v.slice(1)}`;
        L.push(`  const ${n} = p + ${prefix} + ${a.type === "shortstr" ? "b[p]!" : "readU32(b, p)"};`);
        L.push(`  if (${n}${ahead > 0 ? ` + ${ahead}` : ""} > end) throw ${fail};`);
        const read = a.type === "table" ? "decodeTableBody" : a.binary ? "copyBytes" : "readUtf8";
        L.push(`  const ${v} = ${read}(b, p + ${prefix}, ${n});`);
        L.push(`  p = ${n};`);
        break;
      }
      case "bit":
        throw new Error("unreachable");
    }
  }
  L.push(`  if (p !== end) throw ${fail};`);
  const oneLine = `  return { ${props.join(", ")} };`;
  if (oneLine.length <= 110) L.push(oneLine);
  else L.push(`  return {`, ...props.map((x) => `    ${x},`), `  };`);
  L.push(`}`);
  return L;
}

function genEncoder(m: MethodModel): string[] {
  const fields = fieldsOf(m);
  const L: string[] = [];
  const param = fields.length === 0 ? `_m?: Omit<${m.typeName}, "method">` : `m: Omit<${m.typeName}, "method">`;
  L.push(`export function write${m.typeName}(w: BufferWriter, channel: number, ${param}): void {`);
  L.push(`  const start = w.beginFrame(1, channel);`);
  L.push(`  w.u32(${m.constName});`);
  for (const f of fields) {
    if (f.kind === "bits") {
      const parts = f.args.map((a, bit) => `(m.${a.name} ? ${1 << bit} : 0)`);
      const line = `  w.u8(${parts.join(" | ")});`;
      if (line.length <= 110) L.push(line);
      else L.push(`  w.u8(`, ...parts.map((x, i) => `    ${i === 0 ? "" : "| "}${x}`), `  );`);
      continue;
    }
    const a = f.arg;
    const call = {
      octet: "u8",
      short: "u16",
      long: "u32",
      longlong: "u64",
      timestamp: "u64",
      shortstr: "shortstr",
      longstr: "longstr",
      table: "table",
    }[a.type as Exclude<PrimitiveType, "bit">];
    L.push(`  w.${call}(m.${a.name});`);
  }
  L.push(`  w.endFrame(start);`);
  L.push(`}`);
  return L;
}

/** Returns the TypeScript source of src/amqp/codec/generated.ts for the given spec JSON. */
export function generateAmqpCode(specJson: unknown): string {
  const spec = buildSpecModel(specJson);
  const out: string[] = [];
  const emit = (...lines: string[]): void => {
    out.push(...lines);
  };

  emit(`// generated by scripts/gen-amqp.ts from ${SPEC_PATH} — do not edit`);
  emit("//");
  emit("// The AMQP 0-9-1 definitions this file is generated from carry this notice:");
  emit("//");
  for (const line of spec.copyright.replace(/\n$/, "").split("\n")) {
    const t = line.trimEnd();
    emit(t === "" ? "//" : `//   ${t}`);
  }
  emit("");
  emit(`import type { FieldTable } from "../../core/message.js";`);
  emit(`import type { BufferWriter } from "./buffer-writer.js";`);
  emit(`import { AmqpCodecError, cannotDecode } from "./errors.js";`);
  emit(`import { decodeTableBody } from "./field-table.js";`);
  const usesBinary = spec.methods.some((m) => m.args.some((a) => a.binary));
  emit(`import { ${usesBinary ? "copyBytes, " : ""}readU16, readU32, readU64, readUtf8 } from "./read.js";`);
  emit("");

  emit("// ---- spec constants ----", "");
  for (const c of spec.constants) emit(`export const ${c.constName} = ${c.value};`);
  emit("");
  emit(
    '/** Reply codes (soft and hard errors, and REPLY_SUCCESS) by value → their spec names, e.g. 404 → "NOT_FOUND". */',
  );
  emit("export const REPLY_CODE_NAMES: ReadonlyMap<number, string> = new Map([");
  for (const c of spec.constants) {
    if (c.errorClass !== null || c.specName === "reply-success") emit(`  [${c.value}, "${c.constName}"],`);
  }
  emit("]);");
  emit("");
  emit("/** Reply codes whose spec class is hard-error (they close the connection). */");
  emit("export const HARD_ERROR_CODES: ReadonlySet<number> = new Set([");
  for (const c of spec.constants) if (c.errorClass === "hard-error") emit(`  ${c.constName},`);
  emit("]);");
  emit("");

  emit("// ---- class ids ----", "");
  for (const c of spec.classes) emit(`export const CLASS_${upperSnake(c.name)} = ${c.id};`);
  emit("");

  emit("// ---- method ids (classId << 16 | methodId) ----", "");
  for (const m of spec.methods) emit(`export const ${m.constName} = ${hex(m.id)};`);
  emit("");

  emit("// ---- method types ----", "");
  for (const m of spec.methods) {
    emit(`/** ${m.fullName} (${m.classId}/${m.methodId}) */`);
    if (m.args.length === 0) {
      emit(`export interface ${m.typeName} {`, `  readonly method: typeof ${m.constName};`, `}`);
    } else {
      emit(`export interface ${m.typeName} {`, `  readonly method: typeof ${m.constName};`);
      for (const a of m.args) emit(`  ${a.name}: ${tsType(a)};`);
      emit(`}`);
    }
    emit("");
  }
  emit("export type AmqpMethod =");
  spec.methods.forEach((m, i) => emit(`  | ${m.typeName}${i === spec.methods.length - 1 ? ";" : ""}`));
  emit("");
  emit("/** The numeric id of any method (the `method` discriminant). */");
  emit(`export type AmqpMethodId = AmqpMethod["method"];`);
  emit("");
  emit("/** A method's arguments, i.e. what its encoder takes. */");
  emit(`export type MethodArgs<M extends AmqpMethod> = Omit<M, "method">;`);
  emit("");

  emit("// ---- method metadata ----", "");
  emit('/** The spec name of a method id, e.g. "queue.declare"; `unknown C/M` for ids the spec does not define. */');
  emit("export function methodName(id: number): string {");
  emit("  switch (id) {");
  for (const m of spec.methods) emit(`    case ${m.constName}:`, `      return "${m.fullName}";`);
  emit("    default:");
  emit("      return `unknown ${id >>> 16}/${id & 0xffff}`;");
  emit("  }");
  emit("}");
  emit("");
  emit("/** Methods followed by a content header and body frames. */");
  emit("export const METHOD_HAS_CONTENT: ReadonlySet<number> = new Set([");
  for (const m of spec.methods) if (m.content) emit(`  ${m.constName},`);
  emit("]);");
  emit("");
  emit("/** Methods the spec marks synchronous (they expect a reply method). */");
  emit("export const METHOD_IS_SYNCHRONOUS: ReadonlySet<number> = new Set([");
  for (const m of spec.methods) if (m.synchronous) emit(`  ${m.constName},`);
  emit("]);");
  emit("");

  emit("// ---- decoding ----", "");
  emit("// Like RabbitMQ's decoders, these accept exactly the method's layout: a");
  emit('// payload that is truncated or has trailing bytes is a 501 "cannot decode".');
  emit("");
  for (const m of spec.methods) emit(...genDecoder(m), "");
  emit("/**");
  emit(" * Decodes a method frame payload buf[offset, end) (starting at the class id).");
  emit(" * Throws AmqpCodecError for unknown methods (540), payloads that do not match");
  emit(" * the method's layout (501) and bad field tables (502), with `methodId` set.");
  emit(" * Decoded strings, tables and Buffers never alias `buf`.");
  emit(" */");
  emit("export function decodeMethod(buf: Buffer, offset: number, end: number): AmqpMethod {");
  emit("  if (offset + 4 > end) throw cannotDecode(0, buf, offset, end);");
  emit("  const id = readU32(buf, offset);");
  emit("  try {");
  emit("    return decodeArguments(id, buf, offset + 4, end);");
  emit("  } catch (e) {");
  emit("    if (e instanceof AmqpCodecError && e.methodId === 0) e.methodId = id;");
  emit("    throw e;");
  emit("  }");
  emit("}");
  emit("");
  emit("function decodeArguments(id: number, b: Buffer, p: number, end: number): AmqpMethod {");
  emit("  switch (id) {");
  for (const m of spec.methods) emit(`    case ${m.constName}:`, `      return decode${m.typeName}(b, p, end);`);
  emit("    default:");
  emit("      throw new AmqpCodecError(`unknown method ${id >>> 16}/${id & 0xffff}`, 540, id);");
  emit("  }");
  emit("}");
  emit("");

  emit("// ---- encoding: each writes a complete method frame ----", "");
  for (const m of spec.methods) emit(...genEncoder(m), "");
  emit("/** Writes a complete method frame for any method. */");
  emit("export function writeMethodFrame(w: BufferWriter, channel: number, m: AmqpMethod): void {");
  emit("  switch (m.method) {");
  for (const m of spec.methods) {
    emit(`    case ${m.constName}:`);
    emit(`      write${m.typeName}(w, channel${m.args.length === 0 ? "" : ", m"});`);
    emit(`      return;`);
  }
  emit("  }");
  emit("}");
  return out.join("\n") + "\n";
}

function repoRoot(): URL {
  // compiled to dist/scripts/gen-amqp.js
  return new URL("../../", import.meta.url);
}

function main(): void {
  const root = repoRoot();
  const spec: unknown = JSON.parse(readFileSync(new URL(SPEC_PATH, root), "utf8"));
  const code = generateAmqpCode(spec);
  writeFileSync(new URL(OUTPUT_PATH, root), code);
  process.stdout.write(`wrote ${OUTPUT_PATH} (${code.length} bytes)\n`);
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) main();
