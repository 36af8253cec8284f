/**
 * Strict readers for protobuf-specs JSON (proto3 JSON mapping, as protojson reads it):
 * field names in lowerCamelCase or their original snake_case, `null` meaning "absent",
 * bytes as standard base64, int64 as decimal strings (numbers tolerated), enums by name,
 * google.protobuf.Timestamp as RFC 3339 text. Every error names the field path.
 */
import { invalid, quoteInput } from '../core/errors.ts';
import { fromBase64 } from '../core/encoding/base64.ts';

export type JsonObject = Record<string, unknown>;

function snake(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The known camelCase field whose snake_case name is `key` (rare: worked out only when asked). */
function fromSnake(key: string, known: readonly string[]): string | undefined {
  if (!key.includes('_')) return undefined;
  const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return known.includes(camel) && snake(camel) === key ? camel : undefined;
}

/**
 * Read `value` at `path` as a message whose fields are `known` (camelCase names). Returns the
 * fields under their camelCase names with `null` values dropped. When `strict`, an unknown field
 * is an error (protojson's default); otherwise unknown fields are ignored (documents that evolve,
 * like trusted roots).
 */
export function message(
  value: unknown,
  path: string,
  known: readonly string[],
  strict = true,
): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(path || '(top level)', `must be a JSON object, found ${kindOf(value)}`);
  // Every key a known camelCase name and no null: the object itself is the answer (a bundle
  // is read at every verification; a copy of each of its messages was a fifth of the read).
  const keys = Object.keys(value);
  if (keys.every((k) => known.includes(k) && (value as JsonObject)[k] !== null))
    return value as JsonObject;
  const out: JsonObject = {};
  for (const key of keys) {
    const v = (value as JsonObject)[key];
    const name = known.includes(key) ? key : fromSnake(key, known);
    if (name === undefined) {
      if (strict) throw invalid(join(path, key), 'is not a known field');
      continue;
    }
    if (Object.hasOwn(out, name)) throw invalid(join(path, key), `duplicates field "${name}"`);
    if (v === null) continue;
    out[name] = v;
  }
  return out;
}

/** JSON text as a value: the project's one strict reader (core/json.ts). */
export { parseJsonText } from '../core/json.ts';

export function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export function required<T>(v: T | undefined, path: string): T {
  if (v === undefined) throw invalid(path, 'is required but missing');
  return v;
}

export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalid(path, `must be a string, found ${kindOf(v)}`);
  return v;
}

export function optStr(v: unknown, path: string): string | undefined {
  return v === undefined ? undefined : str(v, path);
}

/**
 * bytes: standard base64 (protojson also accepts URL-safe and unpadded). Line breaks are
 * skipped, as Go's and Python's decoders do (some public bundles carry MIME-wrapped base64).
 */
export function bytes(v: unknown, path: string): Uint8Array {
  const s = str(v, path);
  return fromBase64(s.includes('\n') ? s.replace(/\r?\n/g, '') : s, path);
}

export function nonEmptyBytes(v: unknown, path: string): Uint8Array {
  const b = bytes(required(v, path), path);
  if (b.length === 0) throw invalid(path, 'must not be empty');
  return b;
}

export function array(v: unknown, path: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(path, `must be an array, found ${kindOf(v)}`);
  return v;
}

/** int64/uint64: a decimal string or a JSON integer; must fit a safe JS integer. */
export function int64(v: unknown, path: string, min = Number.MIN_SAFE_INTEGER): number {
  let n: number;
  if (typeof v === 'string') {
    if (!/^-?\d+$/.test(v)) throw invalid(path, `${quoteInput(v)} is not an integer`);
    n = Number(v);
  } else if (typeof v === 'number') {
    n = v;
  } else throw invalid(path, `must be an integer (string or number), found ${kindOf(v)}`);
  if (!Number.isSafeInteger(n)) throw invalid(path, `${quoteInput(v)} is not a safe integer`);
  if (n < min) throw invalid(path, `${n} must be at least ${min}`);
  return n;
}

/** An enum given by name (or by number, as protojson accepts), limited to `names`. */
export function enumName<T extends string>(
  v: unknown,
  path: string,
  names: readonly T[],
  numbers: Readonly<Record<number, T>> = {},
): T {
  if (typeof v === 'number' && numbers[v] !== undefined) return numbers[v];
  if (typeof v === 'string' && (names as readonly string[]).includes(v)) return v as T;
  throw invalid(path, `${quoteInput(v)} is not one of ${names.join(', ')}`);
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** google.protobuf.Timestamp: RFC 3339 text. */
export function timestamp(v: unknown, path: string): Date {
  const s = str(v, path);
  if (!RFC3339.test(s)) throw invalid(path, `${quoteInput(s)} is not an RFC 3339 time`);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw invalid(path, `${quoteInput(s)} is not a valid time`);
  return d;
}

/** RFC 3339 in UTC with "Z", seconds precision unless there are milliseconds. */
export function formatTimestamp(d: Date): string {
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}
