/**
 * The one strict JSON reader for untrusted documents (bundles, trusted roots, TUF metadata,
 * tokens, service answers, predicates): UTF-8 decoded strictly, a syntax error reported as a
 * sentence naming the document (never V8's "Unexpected token ..." text), and an object with the
 * same key twice refused, since two readers could take different values (RFC 8259 §4 leaves it
 * undefined; JSON.parse keeps the last).
 */
import { invalid, jsonProblem, SignetError } from './errors.ts';

/** One strict decoder for every call: a whole-input decode keeps no state between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parse `input` as JSON. `field` is what the document is (the flag, argument or field path for
 * the error); `name` optionally the file or URL it came from.
 */
export function parseJsonText(input: string | Uint8Array, field: string, name?: string): unknown {
  let text: string;
  if (typeof input === 'string') text = input;
  else
    try {
      text = UTF8.decode(input);
    } catch (e) {
      throw invalid(field, `${name ? `${name} ` : ''}is not UTF-8 text`, e);
    }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(
      field,
      `${name ? `${name} ` : ''}is not valid JSON (${jsonProblem(e as SyntaxError)})`,
      e,
    );
  }
  // JSON.parse keeps a repeated key's last value and drops the earlier pairs, so the text names
  // more keys than the value holds exactly when a key is repeated. Counting both is cheaper than
  // collecting each object's keys; the key is looked for by name only to report it.
  if (keysInText(text) !== keysInValue(value)) {
    const dup = duplicateKey(text);
    if (dup !== undefined)
      throw new SignetError(
        'invalid-input',
        'INVALID_INPUT',
        `${name ? `${name} ` : ''}has the key "${dup}" twice in one object`,
        { field, details: { repeatedKey: dup } },
      );
  }
  return value;
}

/**
 * The key a parseJsonText error found twice in one object, or undefined for any other error:
 * for readers that name the key in their own words (a token's claim, a request body's key).
 */
export function repeatedKeyOf(e: unknown): string | undefined {
  const key = e instanceof SignetError ? e.details?.['repeatedKey'] : undefined;
  return typeof key === 'string' ? key : undefined;
}

/** A JSON object (not an array, null or scalar). */
export function parseJsonObject(
  input: string | Uint8Array,
  field: string,
  name?: string,
): Record<string, unknown> {
  const v = parseJsonText(input, field, name);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, `${name ? `${name} ` : ''}must be a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * The index of the quote that closes the string opening at `i` in valid JSON text: the next one
 * not escaped (an odd run of backslashes before it). indexOf jumps over long strings (base64
 * certificates, bodies) at native speed.
 */
function stringEnd(text: string, i: number): number {
  let j = text.indexOf('"', i + 1);
  for (;;) {
    let k = j - 1;
    while (text.charCodeAt(k) === 0x5c) k--;
    if ((j - 1 - k) % 2 === 0) return j;
    j = text.indexOf('"', j + 1);
  }
}

/** The keys valid JSON text names: outside strings, a colon follows each key and nothing else. */
function keysInText(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) i = stringEnd(text, i);
    else if (c === 0x3a /* : */) n++;
  }
  return n;
}

/** The own keys of every object in a parsed JSON value (iteratively: JSON may nest deeply). */
function keysInValue(value: unknown): number {
  let n = 0;
  const pending = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object') pending.push(x);
      continue;
    }
    for (const k of Object.keys(v)) {
      n++;
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'object') pending.push(x);
    }
  }
  return n;
}

/**
 * The first key repeated within one object of already-valid JSON text, or undefined. A single
 * pass over the text: strings are skipped as tokens, a stack holds the keys of each open object.
 */
function duplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const j = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const raw = text.slice(i + 1, j);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) expectKey = stack[stack.length - 1] != null;
  }
  return undefined;
}
