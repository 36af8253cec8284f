/**
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed-note text
 * `origin\nsize\nbase64(root)\n[extension lines\n]`. Rekor v1 uses the same text with the origin
 * `"<hostname> - <treeID>"` and no extension lines (rekor pkg/util/checkpoint.go).
 */
import { invalid, verificationFailed } from '../errors.ts';
import { fromBase64, toBase64 } from '../encoding/base64.ts';
import { HASH_SIZE } from '../merkle/hash.ts';
import {
  DEFAULT_MAX_SIGNATURES,
  signNote,
  verifyNote,
  type NoteSigner,
  type NoteVerifier,
  type VerifiedNote,
} from './note.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Extension lines, without their newlines (e.g. a Rekor v1 `Timestamp: ...`). */
  extensions: string[];
}

/** The checkpoint text (the signed part of the note). */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || cp.origin.includes('\n'))
    throw invalid('checkpoint.origin', 'must be one non-empty line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0)
    throw invalid('checkpoint.size', 'must be a non-negative integer');
  if (cp.rootHash.length !== HASH_SIZE)
    throw invalid('checkpoint.rootHash', `must be ${HASH_SIZE} bytes`);
  for (const [i, e] of cp.extensions.entries())
    if (e.length === 0 || e.includes('\n'))
      throw invalid(`checkpoint.extensions[${i}]`, 'must be one non-empty line');
  return [cp.origin, String(cp.size), toBase64(cp.rootHash), ...cp.extensions, ''].join('\n');
}

/** Strictly parse checkpoint text (the note text, not the whole signed note). */
export function parseCheckpoint(text: string, field = 'checkpoint'): Checkpoint {
  if (!text.endsWith('\n')) throw invalid(field, 'does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3)
    throw invalid(field, `has ${lines.length} lines; origin, size and root hash are required`);
  const [origin, sizeText, rootText, ...extensions] = lines as [
    string,
    string,
    string,
    ...string[],
  ];
  if (origin.length === 0) throw invalid(`${field}.origin`, 'is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    throw invalid(`${field}.size`, `"${sizeText}" is not a decimal number without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw invalid(`${field}.size`, `${sizeText} is too large`);
  const rootHash = fromBase64(rootText, `${field}.rootHash`, false);
  if (rootHash.length !== HASH_SIZE)
    throw invalid(`${field}.rootHash`, `is ${rootHash.length} bytes, not ${HASH_SIZE}`);
  for (const [i, e] of extensions.entries())
    if (e.length === 0) throw invalid(`${field}.extensions[${i}]`, 'is an empty line');
  return { origin, size, rootHash, extensions };
}

/** Format and sign a checkpoint: the whole signed note. */
export function signCheckpoint(cp: Checkpoint, signers: NoteSigner[]): string {
  return signNote(formatCheckpoint(cp), signers);
}

export interface VerifiedCheckpoint extends Checkpoint {
  note: VerifiedNote;
}

/**
 * Verify a signed checkpoint note against trusted keys and parse it. With `origin`, the
 * checkpoint's origin must equal it exactly (a checkpoint of another log is not evidence).
 */
export function openCheckpoint(
  input: string | Uint8Array,
  verifiers: NoteVerifier[],
  opts: { origin?: string; field?: string; maxSignatures?: number } = {},
): VerifiedCheckpoint {
  const field = opts.field ?? 'checkpoint';
  const note = verifyNote(input, verifiers, field, opts.maxSignatures ?? DEFAULT_MAX_SIGNATURES);
  const cp = parseCheckpoint(note.text, field);
  if (opts.origin !== undefined && cp.origin !== opts.origin)
    throw verificationFailed(
      'CHECKPOINT_ORIGIN',
      `${field}: origin is "${cp.origin}", expected "${opts.origin}"`,
    );
  return { ...cp, note };
}

/** Rekor v1's checkpoint origin: `"<hostname> - <treeID>"`. */
export function rekorV1Origin(hostname: string, treeId: string | bigint): string {
  return `${hostname} - ${treeId}`;
}

/**
 * The C2SP origin of a log at a base URL: the URL without its scheme and trailing slashes
 * (`https://log.example/shard1/` -> `log.example/shard1`), as rekor-tiles and Signet name
 * their logs. Undefined when the text is not a URL.
 */
export function originOfUrl(baseUrl: string): string | undefined {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    return undefined;
  }
  return `${u.host}${u.pathname}`.replace(/\/+$/, '');
}
