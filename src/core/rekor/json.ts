import { invalid } from '../errors.ts';
import { fromBase64 } from '../encoding/base64.ts';

/**
 * Strict readers for untrusted JSON: every error names the field path (`spec.signature.content`).
 * Parse, don't validate: callers get typed values or a SignetError.
 */
export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function object(v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw invalid(path, 'must be a JSON object');
  return v;
}

/**
 * Rejects fields not in `allowed` (Rekor v2 rejects unknown fields; go-swagger's generated
 * Rekor v1 models do too for `additionalProperties: false`). `aliases` maps protojson's
 * snake_case spellings to the camelCase name, both accepted as protojson does.
 */
export function fields(
  obj: JsonObject,
  path: string,
  allowed: readonly string[],
  aliases: Record<string, string> = NO_ALIASES,
): JsonObject {
  if (aliases === NO_ALIASES) {
    // Nothing to rename: once every key is known, the object is the answer (no copy per level).
    for (const k of Object.keys(obj))
      if (!allowed.includes(k)) throw invalid(join(path, k), 'is not a known field');
    return obj;
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    const name = aliases[k] ?? k;
    if (!allowed.includes(name)) throw invalid(join(path, k), 'is not a known field');
    if (Object.hasOwn(out, name))
      throw invalid(join(path, k), `is given twice (as ${name} and ${k})`);
    out[name] = v;
  }
  return out;
}

const NO_ALIASES: Record<string, string> = Object.freeze({});

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function string(v: unknown, path: string, opts: { nonEmpty?: boolean } = {}): string {
  if (v === undefined || v === null) throw invalid(path, 'is required');
  if (typeof v !== 'string') throw invalid(path, 'must be a string');
  if (opts.nonEmpty !== false && v === '') throw invalid(path, 'must not be empty');
  return v;
}

export function optionalString(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(path, 'must be a string');
  return v;
}

/** Standard base64 bytes (strict alphabet and padding, as Go's StdEncoding and strfmt.Base64). */
export function base64(v: unknown, path: string, opts: { strict?: boolean } = {}): Uint8Array {
  const s = string(v, path);
  const bytes = fromBase64(s, path, opts.strict === false);
  if (bytes.length === 0) throw invalid(path, 'must not be empty');
  return bytes;
}

export function array(
  v: unknown,
  path: string,
  opts: { min?: number; max?: number } = {},
): unknown[] {
  if (v === undefined || v === null) throw invalid(path, 'is required');
  if (!Array.isArray(v)) throw invalid(path, 'must be an array');
  if (opts.min !== undefined && v.length < opts.min)
    throw invalid(path, `must have at least ${opts.min} item(s)`);
  if (opts.max !== undefined && v.length > opts.max)
    throw invalid(path, `must have at most ${opts.max} item(s)`);
  return v;
}

export function required(v: unknown, path: string): unknown {
  if (v === undefined || v === null) throw invalid(path, 'is required');
  return v;
}
