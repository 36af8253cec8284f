/**
 * Git objects as signatures see them (git commit.c parse_buffer_signed_by_header, tag.c /
 * gpg-interface.c parse_signature; gitsign pkg/git/rawobj.go). Works on the raw bytes git
 * stores, never a re-encoding, so what is verified is exactly what is in the repository.
 *  - commit: the signature is the header git's gpg_sig_headers names for the repository's
 *    object format, `gpgsig` (SHA-1) or `gpgsig-sha256` (SHA-256; continuation lines start
 *    with one space); the signed payload is the object with both headers removed;
 *  - tag: the signature is the trailing PEM block of the message, from the last line starting
 *    `-----BEGIN `; the payload is everything before it.
 */
import { invalid } from '../errors.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

export type SignedObjectType = 'commit' | 'tag';

/** A repository's object format (git's `extensions.objectFormat`). */
export type ObjectFormat = 'sha1' | 'sha256';

/** The header that carries a commit's signature in each format (git commit.c gpg_sig_headers). */
const SIG_HEADER: Record<ObjectFormat, string> = { sha1: 'gpgsig', sha256: 'gpgsig-sha256' };

/** The object format an object ID belongs to, by its length (40 or 64 hex digits). */
export function objectFormatOfId(id: string): ObjectFormat {
  if (/^[0-9a-f]{40}$/.test(id)) return 'sha1';
  if (/^[0-9a-f]{64}$/.test(id)) return 'sha256';
  throw invalid('object ID', `"${id}" is neither a SHA-1 nor a SHA-256 object ID`);
}

/**
 * The object format of a signed payload, from the ID in its first header (`tree` of a commit,
 * `object` of a tag); SHA-1 when there is none to tell.
 */
export function objectFormatOfPayload(payload: Uint8Array): ObjectFormat {
  const first = Buffer.from(payload.subarray(0, 80)).toString('latin1');
  return /^(?:tree|object) [0-9a-f]{64}\n/.test(first) ? 'sha256' : 'sha1';
}

export interface SplitObject {
  payload: Uint8Array;
  /** The armored signature text, or undefined for an unsigned object. */
  signature: Uint8Array | undefined;
}

const NL = 0x0a;

function lines(raw: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++)
    if (raw[i] === NL) {
      out.push(raw.subarray(start, i + 1));
      start = i + 1;
    }
  if (start < raw.length) out.push(raw.subarray(start));
  return out;
}

const startsWith = (b: Uint8Array, prefix: string): boolean =>
  b.length >= prefix.length &&
  Buffer.from(b.subarray(0, prefix.length)).toString('latin1') === prefix;

/**
 * Splits a raw commit into its signed payload and its signature: the `gpgsig` header in a SHA-1
 * repository, `gpgsig-sha256` in a SHA-256 one, as git verify-commit reads it.
 */
export function splitCommit(raw: Uint8Array, format: ObjectFormat): SplitObject {
  const own = `${SIG_HEADER[format]} `;
  const other = `${SIG_HEADER[format === 'sha1' ? 'sha256' : 'sha1']} `;
  const payload: Uint8Array[] = [];
  const sig: Uint8Array[] = [];
  let inHeaders = true;
  let active: 'own-sig' | 'other-sig' | undefined;
  let seenSig = false;
  for (const line of lines(raw)) {
    if (!inHeaders) {
      payload.push(line);
      continue;
    }
    if (line.length === 1 && line[0] === NL) {
      inHeaders = false;
      active = undefined;
      payload.push(line);
      continue;
    }
    if (active !== undefined && line[0] === 0x20) {
      // A continuation line of the signature header: git strips exactly one space.
      if (active === 'own-sig') sig.push(line.subarray(1));
      continue;
    }
    active = undefined;
    if (startsWith(line, own)) {
      if (seenSig) throw invalid('commit', `has more than one ${own.trim()} header`);
      seenSig = true;
      active = 'own-sig';
      sig.push(line.subarray(own.length));
    } else if (startsWith(line, other)) {
      active = 'other-sig';
    } else {
      payload.push(line);
    }
  }
  return {
    payload: concat(payload),
    signature: seenSig ? withNewline(concat(sig)) : undefined,
  };
}

/** Splits a raw tag into its signed payload and the trailing signature block. */
export function splitTag(raw: Uint8Array): SplitObject {
  const all = lines(raw);
  // Headers end at the first empty line; the signature is searched for in the message only.
  let body = all.findIndex((l) => l.length === 1 && l[0] === NL);
  if (body < 0) body = all.length;
  let sigStart = -1;
  for (let i = all.length - 1; i > body; i--)
    if (startsWith(all[i]!, '-----BEGIN ')) {
      sigStart = i;
      break;
    }
  if (sigStart < 0) return { payload: raw, signature: undefined };
  return {
    payload: concat(all.slice(0, sigStart)),
    signature: concat(all.slice(sigStart)),
  };
}

/**
 * The name a tag object gives itself (its `tag` header, git tag.c), which its signature covers;
 * undefined when it has none.
 */
export function tagNameOf(raw: Uint8Array): string | undefined {
  for (const line of lines(raw)) {
    if (line.length === 1 && line[0] === NL) return undefined; // headers end at the first empty line
    if (startsWith(line, 'tag '))
      return Buffer.from(line.subarray(4)).toString('utf8').replace(/\n$/, '');
  }
  return undefined;
}

/** Which kind of object a payload is, from its first header (as gitsign decides). */
export function objectTypeOf(payload: Uint8Array): SignedObjectType | undefined {
  if (startsWith(payload, 'tree ')) return 'commit';
  if (startsWith(payload, 'object ')) return 'tag';
  return undefined;
}

/**
 * The object as git stores it once the signature is added: the signature header (`gpgsig`, or
 * `gpgsig-sha256` in a SHA-256 repository) just before the blank line for a commit, the block
 * appended for a tag. Its hash is the object ID gitsign's "online" log entries are keyed on.
 */
export function joinSignature(
  type: SignedObjectType,
  payload: Uint8Array,
  signature: Uint8Array,
  format: ObjectFormat,
): Uint8Array {
  if (type === 'tag') return concat([payload, signature]);
  const text = Buffer.from(payload);
  const end = text.indexOf('\n\n');
  if (end < 0) throw invalid('commit', 'has no blank line after its headers');
  let s = Buffer.from(signature).toString('latin1');
  if (s.endsWith('\n')) s = s.slice(0, -1);
  const header = `${SIG_HEADER[format]} ${s.split('\n').join('\n ')}\n`;
  return concat([
    payload.subarray(0, end + 1),
    new Uint8Array(Buffer.from(header, 'latin1')),
    payload.subarray(end + 1),
  ]);
}

/**
 * Git's object ID: the format's hash (SHA-1 or SHA-256) of `<type> <size>\0<raw>`, hex, for any
 * object type (commit, tag, tree, blob).
 */
export function objectId(type: string, raw: Uint8Array, format: ObjectFormat): string {
  return createHash(format).update(`${type} ${raw.length}\0`).update(raw).digest('hex');
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function withNewline(b: Uint8Array): Uint8Array {
  return b.length > 0 && b[b.length - 1] !== NL ? concat([b, Uint8Array.of(NL)]) : b;
}
