import { invalid } from '../errors.ts';

const ALPHABET = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/** Standard base64 (RFC 4648 §4) with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Strict standard base64 decoding: Node's decoder silently skips bad characters, so the
 * alphabet and padding are checked first. Unpadded input is accepted when `allowUnpadded`
 * (protojson accepts both). Throws a SignetError naming `field`.
 */
export function fromBase64(text: string, field: string, allowUnpadded = true): Uint8Array {
  let s = text;
  if (allowUnpadded && s.length % 4 !== 0 && !s.includes('='))
    s += '='.repeat((4 - (s.length % 4)) % 4);
  const bytes = Buffer.from(s, 'base64');
  // Canonical base64 re-encodes to itself: that check runs at native speed and accepts almost
  // every input; the rest (non-zero trailing bits, or invalid) goes through the strict pattern.
  if (bytes.toString('base64') !== s && !isPaddedBase64(s)) {
    // protojson also accepts the URL-safe alphabet
    if (allowUnpadded && URL_SAFE.test(text)) return new Uint8Array(Buffer.from(text, 'base64url'));
    throw invalid(field, 'is not valid base64');
  }
  return new Uint8Array(bytes);
}

/**
 * Padded standard base64: whole 4-character groups, at most two '=' and only at the end.
 * Checked without a repeated group in a regexp, which overflows the stack on inputs of a few
 * MiB (a large attestation's payload).
 */
function isPaddedBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return ALPHABET.test(pad === 0 ? s : s.slice(0, -pad));
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export function fromBase64Url(text: string, field: string): Uint8Array {
  if (!URL_SAFE.test(text)) throw invalid(field, 'is not valid base64url');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
