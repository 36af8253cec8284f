/**
 * C2SP signed-note (c2sp.org/signed-note): a text ending in a newline, a blank line, then
 * signature lines `— <key name> base64(4-byte BE key ID || signature)`. Parsing is strict;
 * verification ignores signatures from unknown (name, key ID) pairs, rejects the note when a
 * known key's signature fails, and requires at least one verified known signature.
 */
import { SignetError, invalid, verificationFailed } from '../errors.ts';
import { fromBase64, toBase64 } from '../encoding/base64.ts';

/** U+2014 EM DASH, then a space: the start of every signature line. */
export const SIGNATURE_PREFIX = '\u2014 ';

/** The spec says verifiers must accept at least 16; more than this is refused as abuse. */
export const DEFAULT_MAX_SIGNATURES = 100;

export interface NoteSignature {
  name: string;
  /** uint32 key ID (the first four signature bytes, big-endian). */
  keyId: number;
  signature: Uint8Array;
}

export interface Note {
  /** The signed text, including its final newline. */
  text: string;
  signatures: NoteSignature[];
}

/** Something that signs note text under a key name (a log, a witness). */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Uint8Array;
}

/** A trusted key that checks signatures over note text. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const ENC = new TextEncoder();

/** C2SP: key names are non-empty and contain no Unicode spaces and no `+`. */
export function checkKeyName(name: string, field: string): void {
  if (name.length === 0) throw invalid(field, 'key name is empty');
  if (/[\s+]/u.test(name))
    throw invalid(field, `key name "${name}" contains a space or "+", which signed notes forbid`);
  // The same control-character rule as the note text.
  if (firstControl(name, false) >= 0) throw invalid(field, 'key name contains a control character');
}

/** Index of the first ASCII control character (below U+0020), newline allowed or not. */
function firstControl(s: string, allowNewline: boolean): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return i;
  }
  return -1;
}

function checkText(s: string, field: string): void {
  // Signed notes must not contain ASCII control characters other than newline.
  const i = firstControl(s, true);
  if (i >= 0)
    throw invalid(
      field,
      `contains control character U+${s.charCodeAt(i).toString(16).padStart(4, '0')} at offset ${i}`,
    );
}

/** Strictly parse a signed note; the bytes must be UTF-8. Throws SignetError naming `field`. */
export function parseNote(
  input: string | Uint8Array,
  field = 'note',
  maxSignatures = DEFAULT_MAX_SIGNATURES,
): Note {
  let s: string;
  if (typeof input === 'string') {
    s = input;
    if (!s.isWellFormed()) throw invalid(field, 'is not valid UTF-8 (unpaired surrogate)');
  } else {
    try {
      s = UTF8.decode(input);
    } catch {
      throw invalid(field, 'is not valid UTF-8');
    }
  }
  checkText(s, field);
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw invalid(field, 'has no blank line separating the text from the signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0) throw invalid(field, 'has no signature lines');
  if (!block.endsWith('\n')) throw invalid(field, 'signature block does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > maxSignatures)
    throw invalid(field, `has ${lines.length} signatures, more than the limit of ${maxSignatures}`);
  const signatures = lines.map((line, i) => parseSignatureLine(line, `${field}.signatures[${i}]`));
  return { text, signatures };
}

function parseSignatureLine(line: string, field: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX))
    throw invalid(field, 'does not start with "\u2014 " (U+2014 em dash, space)');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const sp = rest.indexOf(' ');
  if (sp < 0) throw invalid(field, 'has no space between key name and signature');
  const name = rest.slice(0, sp);
  checkKeyName(name, field);
  const b64 = rest.slice(sp + 1);
  if (b64.length === 0) throw invalid(field, 'signature is empty');
  const raw = fromBase64(b64, field, false);
  if (raw.length < 5)
    throw invalid(field, `signature is ${raw.length} bytes; at least a 4-byte key ID and 1 byte`);
  const keyId = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, false);
  return { name, keyId, signature: raw.subarray(4) };
}

/** The signature line for one signature. */
export function formatSignatureLine(sig: NoteSignature): string {
  const raw = new Uint8Array(4 + sig.signature.length);
  new DataView(raw.buffer).setUint32(0, sig.keyId >>> 0, false);
  raw.set(sig.signature, 4);
  return `${SIGNATURE_PREFIX}${sig.name} ${toBase64(raw)}\n`;
}

/** Serialize a note: text, blank line, signature lines. */
export function formatNote(note: Note): string {
  if (!note.text.endsWith('\n')) throw invalid('note.text', 'must end with a newline');
  checkText(note.text, 'note.text');
  if (note.signatures.length === 0) throw invalid('note.signatures', 'at least one is needed');
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
}

/** Sign `text` with every signer and serialize the note. */
export function signNote(text: string, signers: NoteSigner[]): string {
  if (!text.endsWith('\n')) throw invalid('note.text', 'must end with a newline');
  checkText(text, 'note.text');
  const msg = ENC.encode(text);
  return formatNote({
    text,
    signatures: signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(msg) })),
  });
}

/** Add signatures (e.g. cosignatures) to an already signed note, keeping the existing ones. */
export function addSignatures(note: string, signers: NoteSigner[]): string {
  const n = parseNote(note);
  const msg = ENC.encode(n.text);
  return formatNote({
    text: n.text,
    signatures: [
      ...n.signatures,
      ...signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(msg) })),
    ],
  });
}

export interface VerifiedNote extends Note {
  /** The known verifiers whose signatures checked out, in signature order. */
  verifiedBy: NoteVerifier[];
}

/**
 * Parse and verify a signed note against trusted keys (c2sp.org/signed-note §Signatures).
 * Unknown (name, key ID) pairs are ignored; a failing signature from a known key rejects the
 * note; at least one known key must have signed.
 */
export function verifyNote(
  input: string | Uint8Array,
  verifiers: NoteVerifier[],
  field = 'note',
  maxSignatures = DEFAULT_MAX_SIGNATURES,
): VerifiedNote {
  return verifyParsedNote(parseNote(input, field, maxSignatures), verifiers, field);
}

/** `verifyNote` for a note the caller has parsed already (to read its text first). */
export function verifyParsedNote(
  note: Note,
  verifiers: NoteVerifier[],
  field = 'note',
): VerifiedNote {
  const msg = ENC.encode(note.text);
  const verifiedBy: NoteVerifier[] = [];
  for (const sig of note.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!v) continue;
    let ok: boolean;
    try {
      ok = v.verify(msg, sig.signature);
    } catch (e) {
      if (e instanceof SignetError) throw e;
      ok = false;
    }
    if (!ok)
      throw verificationFailed(
        'NOTE_SIGNATURE',
        `${field}: signature by known key ${sig.name} (key ID ${hex8(sig.keyId)}) does not verify`,
      );
    if (!verifiedBy.includes(v)) verifiedBy.push(v);
  }
  if (verifiedBy.length === 0) {
    const known = verifiers.map((v) => `${v.name}/${hex8(v.keyId)}`).join(', ') || 'none';
    // The names are the sender's: a few, each cut short (a note may carry 100 names of any length).
    const seen =
      note.signatures
        .slice(0, 5)
        .map(
          (s) => `${s.name.length > 100 ? `${s.name.slice(0, 100)}...` : s.name}/${hex8(s.keyId)}`,
        )
        .join(', ') + (note.signatures.length > 5 ? ` and ${note.signatures.length - 5} more` : '');
    throw verificationFailed(
      'NOTE_NO_KNOWN_SIGNATURE',
      `${field}: no signature from a trusted key (signed by ${seen}; trusted: ${known})`,
    );
  }
  return { ...note, verifiedBy };
}

export function hex8(keyId: number): string {
  return (keyId >>> 0).toString(16).padStart(8, '0');
}
