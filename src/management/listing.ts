/**
 * RabbitMQ's list query parameters (rabbit_mgmt_util:reply_list_or_paginate):
 * `sort`/`sort_reverse` on a dotted field path, `columns` to trim items,
 * and with `page`: `page_size` (1..500, default 100), `name` filter
 * (substring, or a regex with `use_regex=true`, both case-insensitive; the
 * regex runs on RE2, see auth/user-regex.ts) and
 * the paged envelope {filtered_count,item_count,items,page,page_count,page_size,total_count}.
 */
import { UserRegex } from "../auth/user-regex.js";
import { ApiError, badRequest } from "./errors.js";
import type { JsonObject } from "./http-util.js";
import { JsonArrayBody } from "./streaming.js";

const MAX_PAGE_SIZE = 500;
const DEFAULT_PAGE_SIZE = 100;

/** A name filter sees strings as they are and other JSON as JSON text, not "[object Object]". */
const textOf = (value: unknown): string =>
  value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);

function fieldAt(item: JsonObject, path: string): unknown {
  let value: unknown = item;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const left = typeof a === "string" ? a : JSON.stringify(a);
  const right = typeof b === "string" ? b : JSON.stringify(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Each item's sort values are read once, not at every comparison (50,000 queues: ~800,000 comparisons). */
function sortItems(items: JsonObject[], keys: readonly string[], reverse: boolean): JsonObject[] {
  if (keys.length === 0) return reverse ? [...items].reverse() : items;
  const decorated = items.map((item) => ({ item, values: keys.map((key) => fieldAt(item, key)) }));
  decorated.sort((x, y) => {
    for (let i = 0; i < keys.length; i++) {
      const order = compare(x.values[i], y.values[i]);
      if (order !== 0) return order;
    }
    return 0;
  });
  const sorted = decorated.map((entry) => entry.item);
  return reverse ? sorted.reverse() : sorted;
}

function pickColumns(item: JsonObject, columns: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const column of columns) {
    const parts = column.split(".");
    const value = fieldAt(item, column);
    if (value === undefined) continue;
    let target = out;
    for (const part of parts.slice(0, -1)) {
      const next = target[part];
      target = target[part] = next !== null && typeof next === "object" && !Array.isArray(next) ? next : {};
    }
    target[parts[parts.length - 1] as string] = value as JsonObject;
  }
  return out;
}

function positiveInt(query: URLSearchParams, key: string, fallback: number): number {
  const raw = query.get(key);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw badRequest(`${key} must be a positive integer`);
  return value;
}

function nameMatcher(query: URLSearchParams): ((name: string) => boolean) | null {
  const filter = query.get("name");
  if (filter === null || filter === "") return null;
  if (query.get("use_regex") === "true") {
    const re = UserRegex.tryCompile(filter, { caseInsensitive: true });
    if (re === null) throw badRequest(`invalid regular expression '${filter}'`);
    return (name) => re.test(name);
  }
  const needle = filter.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

/**
 * Applies the query to a full list; returns the array (streamed: lists of
 * 50,000 queues are tens of MB) or, when `page` is given, the paged envelope.
 */
export function listReply(
  items: JsonObject[],
  query: URLSearchParams,
  defaultSort: readonly string[] | "presorted",
): unknown {
  const sortParam = query.get("sort");
  // "presorted": the caller built the items in the default order already (cheaper on its own objects than here on JSON).
  const keys = sortParam ? [sortParam] : defaultSort === "presorted" ? [] : defaultSort;
  const sorted = sortItems(items, keys, query.get("sort_reverse") === "true");
  const columnsParam = query.get("columns");
  const columns = columnsParam ? columnsParam.split(",").filter((c) => c !== "") : null;
  const shape = (list: JsonObject[]): JsonObject[] => (columns ? list.map((item) => pickColumns(item, columns)) : list);
  if (!query.has("page")) return new JsonArrayBody(shape(sorted));

  const page = positiveInt(query, "page", 1);
  const pageSize = positiveInt(query, "page_size", DEFAULT_PAGE_SIZE);
  if (pageSize > MAX_PAGE_SIZE) throw badRequest(`page_size must be at most ${MAX_PAGE_SIZE}`);
  const matches = nameMatcher(query);
  const filtered = matches ? sorted.filter((item) => matches(textOf(item["name"]))) : sorted;
  const pageCount = Math.ceil(filtered.length / pageSize);
  if (page > Math.max(pageCount, 1)) {
    throw new ApiError(
      400,
      "page_out_of_range",
      `Page out of range, page: ${page} page size: ${pageSize}, len: ${filtered.length}`,
    );
  }
  const slice = filtered.slice((page - 1) * pageSize, page * pageSize);
  return {
    filtered_count: filtered.length,
    item_count: slice.length,
    items: shape(slice),
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: items.length,
  };
}
