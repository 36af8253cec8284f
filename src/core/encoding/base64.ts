import { invalid } from '../errors.ts';

const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/** Standard base64 (RFC 4648 §4) with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Strict standard base64 decoding: Node's decoder silently skips bad characters, so the
 * alphabet and padding are checked too. Unpadded input is accepted when `allowUnpadded`
 * (protojson accepts both). Throws a SignetError naming `field`.
 */
export function fromBase64(text: string, field: string, allowUnpadded = true): Uint8Array {
  let s = text;
  if (allowUnpadded && s.length % 4 !== 0 && !s.includes('='))
    s += '='.repeat((4 - (s.length % 4)) % 4);
  const bytes = decodePadded(s);
  if (bytes) return bytes;
  // protojson also accepts the URL-safe alphabet
  if (allowUnpadded && URL_SAFE.test(text)) return new Uint8Array(Buffer.from(text, 'base64url'));
  throw invalid(field, 'is not valid base64');
}

/**
 * Padded standard base64 (whole 4-character groups, at most two '=' and only at the end)
 * decoded, or undefined when `s` is not that. Node's decoder skips a character outside its
 * alphabet and stops at an '=', so only a text in which every character counts gives 3 bytes
 * per group less the padding; its alphabet also has the URL-safe '-' and '_', looked for
 * apart. No pattern runs over the text and nothing is encoded again to compare: a bundle's
 * certificates and log entries are kilobytes, decoded at every verification.
 */
function decodePadded(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const n = (s.length / 4) * 3 - pad;
  const b = Buffer.from(s, 'base64');
  if (b.length !== n || s.includes('-') || s.includes('_')) return undefined;
  // Large results have a buffer of their own; small ones are slices of Node's shared pool.
  return b.byteOffset === 0 && b.buffer.byteLength === n
    ? new Uint8Array(b.buffer)
    : new Uint8Array(b);
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export function fromBase64Url(text: string, field: string): Uint8Array {
  if (!URL_SAFE.test(text)) throw invalid(field, 'is not valid base64url');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
