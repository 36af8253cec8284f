/**
 * C2SP tlog-cosignature v1 with Ed25519 (c2sp.org/tlog-cosignature): a witness's note
 * signature on a checkpoint. Key ID = SHA-256(name || "\n" || 0x04 || 32-byte key)[:4]; the
 * signature is `u64 BE timestamp || Ed25519(message)` where the message is
 * `"cosignature/v1\ntime <timestamp>\n" || checkpoint body`. Vkeys carry type 0x04.
 */
import type { KeyObject } from 'node:crypto';
import { invalid, SignetError, verificationFailed } from '../errors.ts';
import { fromBase64, toBase64 } from '../encoding/base64.ts';
import { fromHex } from '../encoding/hex.ts';
import { ed25519Raw } from './keys.ts';
import {
  checkKeyName,
  formatSignatureLine,
  hex8,
  parseNote,
  type Note,
  type NoteSignature,
} from './note.ts';
const { createHash, createPublicKey, sign, verify } = process.getBuiltinModule('node:crypto');

export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

const ENC = new TextEncoder();
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A witness (cosigner) public key: Ed25519, under a key name. */
export interface CosignerKey {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: KeyObject;
}

/** A witness that can cosign. */
export interface Cosigner extends CosignerKey {
  /** The cosignature (a note signature) on checkpoint text, at `time` (POSIX seconds > 0). */
  cosign(checkpointText: string, time: number): NoteSignature;
}

/** The key ID of an Ed25519 cosigner (c2sp.org/tlog-cosignature §Format). */
export function cosignerKeyId(name: string, raw: Uint8Array): number {
  const h = createHash('sha256')
    .update(ENC.encode(name))
    .update(new Uint8Array([0x0a, SIG_TYPE_COSIGNATURE_V1]))
    .update(raw)
    .digest();
  return h.readUInt32BE(0);
}

/** The signed message of a v1 cosignature. */
export function cosignedMessage(checkpointText: string, time: number): Uint8Array {
  if (!Number.isSafeInteger(time) || time <= 0)
    throw invalid('time', 'a cosignature timestamp is a positive integer (POSIX seconds)');
  return ENC.encode(`cosignature/v1\ntime ${time}\n${checkpointText}`);
}

function asEd25519Public(key: KeyObject, field: string): KeyObject {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519')
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `a ${pub.asymmetricKeyType} key cannot make v1 cosignatures (Ed25519 can)`,
      { field },
    );
  return pub;
}

export function cosignerKey(name: string, publicKey: KeyObject, field = 'key'): CosignerKey {
  checkKeyName(name, `${field}.name`);
  const pub = asEd25519Public(publicKey, field);
  return { name, keyId: cosignerKeyId(name, ed25519Raw(pub)), publicKey: pub };
}

export function cosigner(name: string, privateKey: KeyObject): Cosigner {
  if (privateKey.type !== 'private') throw invalid('witness.key', 'is not a private key');
  const key = cosignerKey(name, privateKey, 'witness.key');
  return {
    ...key,
    cosign(checkpointText: string, time: number): NoteSignature {
      const sig = sign(null, cosignedMessage(checkpointText, time), privateKey);
      const out = new Uint8Array(8 + sig.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(time), false);
      out.set(sig, 8);
      return { name: key.name, keyId: key.keyId, signature: out };
    },
  };
}

/** The vkey text `name+hex(keyID)+base64(0x04 || key)`. */
export function formatCosignerKey(key: CosignerKey): string {
  const raw = ed25519Raw(key.publicKey);
  const body = new Uint8Array(33);
  body[0] = SIG_TYPE_COSIGNATURE_V1;
  body.set(raw, 1);
  return `${key.name}+${hex8(key.keyId)}+${toBase64(body)}`;
}

/** Parse a witness vkey (type 0x04) and check its key ID. */
export function parseCosignerKey(vkey: string, field = 'witness key'): CosignerKey {
  const text = vkey.trim();
  const a = text.indexOf('+');
  const b = a < 0 ? -1 : text.indexOf('+', a + 1);
  if (a < 0 || b < 0) throw invalid(field, 'is not a vkey of the form name+keyid+base64key');
  const name = text.slice(0, a);
  const idHex = text.slice(a + 1, b);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw invalid(field, 'key ID is not 8 lowercase hex digits');
  const raw = fromBase64(text.slice(b + 1), field, false);
  if (raw[0] !== SIG_TYPE_COSIGNATURE_V1)
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `vkey type 0x${(raw[0] ?? 0).toString(16).padStart(2, '0')} is not a cosignature/v1 Ed25519 witness key (0x04)`,
      { field },
    );
  if (raw.length !== 33) throw invalid(field, 'Ed25519 key is not 32 bytes');
  let pub: KeyObject;
  try {
    pub = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, raw.subarray(1)]),
      format: 'der',
      type: 'spki',
    });
  } catch (e) {
    throw invalid(field, `key does not parse: ${(e as Error).message}`, e);
  }
  const key = cosignerKey(name, pub, field);
  const id = fromHex(idHex, field);
  const want = new DataView(id.buffer, id.byteOffset, 4).getUint32(0, false);
  if (want !== key.keyId)
    throw invalid(field, `key ID ${idHex} does not match the key (expected ${hex8(key.keyId)})`);
  return key;
}

export interface VerifiedCosignature {
  key: CosignerKey;
  /** POSIX seconds the witness put in its cosignature. */
  time: number;
}

/**
 * The cosignatures on a checkpoint note from trusted witness keys. Signatures from other keys
 * are ignored (signed-note rules); a signature from a trusted witness that does not verify
 * rejects the note, as signed-note requires for any known key.
 */
export function verifyCosignatures(
  note: string | Note,
  keys: readonly CosignerKey[],
  field = 'checkpoint',
): VerifiedCosignature[] {
  const n = typeof note === 'string' ? parseNote(note, field) : note;
  const out: VerifiedCosignature[] = [];
  for (const s of n.signatures) {
    const key = keys.find((k) => k.name === s.name && k.keyId === s.keyId);
    if (!key) continue;
    if (s.signature.length !== 8 + 64)
      throw verificationFailed(
        'WITNESS_COSIGNATURE',
        `${field}: cosignature by witness ${key.name} is ${s.signature.length} bytes, not 72 (timestamp + Ed25519)`,
      );
    const time = Number(
      new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0),
    );
    let ok = false;
    if (Number.isSafeInteger(time) && time > 0) {
      try {
        ok = verify(null, cosignedMessage(n.text, time), key.publicKey, s.signature.subarray(8));
      } catch {
        ok = false;
      }
    }
    if (!ok)
      throw verificationFailed(
        'WITNESS_COSIGNATURE',
        `${field}: cosignature by witness ${key.name} (key ID ${hex8(key.keyId)}) does not verify`,
      );
    if (!out.some((o) => o.key === key)) out.push({ key, time });
  }
  return out;
}

/** At least `threshold` distinct trusted witnesses cosigned the checkpoint note. */
export function requireCosignatures(
  note: string | Note,
  keys: readonly CosignerKey[],
  threshold: number,
  field = 'checkpoint',
): VerifiedCosignature[] {
  const got = verifyCosignatures(note, keys, field);
  if (got.length < threshold) {
    const names = got.map((g) => g.key.name).join(', ') || 'none';
    throw verificationFailed(
      'WITNESS_COSIGNATURES',
      `${field}: ${threshold} cosignature${threshold === 1 ? ' is' : 's are'} needed from the required witnesses ${keys.map((k) => k.name).join(', ')}; it has ${got.length} (${names})`,
    );
  }
  return got;
}

/** Cosignature lines (the add-checkpoint answer), one per signature. */
export function formatCosignatureLines(sigs: readonly NoteSignature[]): string {
  return sigs.map(formatSignatureLine).join('');
}
