/**
 * Note signing keys and their IDs (c2sp.org/signed-note §Signature types; Rekor's variants):
 *
 * | key      | 4-byte note key ID                         | log ID (32 bytes)      |
 * |----------|--------------------------------------------|------------------------|
 * | Ed25519  | SHA-256(name || 0x0A || 0x01 || pubkey)[:4] | the same full hash     |
 * | ECDSA    | SHA-256(SPKI DER)[:4] (type 0x02; Rekor v1) | SHA-256(SPKI DER)      |
 *
 * Ed25519 signs the note text itself; ECDSA signs SHA-256 of it (ASN.1 DER signature).
 */
import type { KeyObject } from 'node:crypto';
import { SignetError, invalid } from '../errors.ts';
import { fromBase64, toBase64 } from '../encoding/base64.ts';
import { fromHex } from '../encoding/hex.ts';
import { checkKeyName, hex8, type NoteSigner, type NoteVerifier } from './note.ts';
const { createHash, createPublicKey, sign, verify } = process.getBuiltinModule('node:crypto');

export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_ECDSA = 0x02;

export type NoteKeyType = 'ed25519' | 'ecdsa';

export interface NoteKey extends NoteVerifier {
  readonly type: NoteKeyType;
  readonly publicKey: KeyObject;
  /** The full 32-byte hash whose first 4 bytes are the key ID (a TrustedRoot `logId.keyId`). */
  readonly logId: Uint8Array;
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** ECDSA note signatures are over SHA-256 of the text (Rekor, witness), whatever the curve. */
const ECDSA_HASH = 'sha256';

const first4 = (h: Uint8Array): number =>
  new DataView(h.buffer, h.byteOffset, 4).getUint32(0, false);

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

/** The 32-byte raw Ed25519 public key (the last 32 bytes of its 44-byte SPKI). */
export function ed25519Raw(key: KeyObject): Uint8Array {
  return spki(key).slice(-32);
}

function typeOf(key: KeyObject, field: string): NoteKeyType {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    if (c === 'prime256v1' || c === 'secp384r1' || c === 'secp521r1') return 'ecdsa';
    throw new SignetError('unsupported', 'UNSUPPORTED_KEY', `EC curve ${c} cannot sign notes`, {
      field,
    });
  }
  throw new SignetError(
    'unsupported',
    'UNSUPPORTED_KEY',
    `a ${key.asymmetricKeyType} key cannot sign notes (Ed25519 and ECDSA can)`,
    { field },
  );
}

/** The full 32-byte log ID of a public key under a key name (table above). */
export function noteLogId(name: string, publicKey: KeyObject): Uint8Array {
  const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  if (typeOf(pub, 'key') === 'ed25519')
    return sha256(
      new TextEncoder().encode(name),
      new Uint8Array([0x0a, SIG_TYPE_ED25519]),
      ed25519Raw(pub),
    );
  return sha256(spki(pub));
}

/** A verifier for `name` with a public key (Ed25519 or ECDSA P-256/384/521). */
export function noteVerifier(name: string, publicKey: KeyObject, field = 'key'): NoteKey {
  checkKeyName(name, `${field}.name`);
  const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  const type = typeOf(pub, field);
  const logId = noteLogId(name, pub);
  return {
    name,
    keyId: first4(logId),
    type,
    publicKey: pub,
    logId,
    verify(text: Uint8Array, signature: Uint8Array): boolean {
      try {
        return type === 'ed25519'
          ? verify(null, text, pub, signature)
          : verify(ECDSA_HASH, text, { key: pub, dsaEncoding: 'der' }, signature);
      } catch {
        return false;
      }
    },
  };
}

/**
 * A verifier for a log key given by a trusted root rather than derived here: the 4-byte key
 * ID is the first bytes of the root's (checkpoint) log ID, which for RSA and legacy entries is
 * not what `noteLogId` would compute. Ed25519 signs the text; ECDSA and RSA sign SHA-256 of it.
 */
export function trustedLogVerifier(name: string, logId: Uint8Array, key: KeyObject): NoteVerifier {
  const keyId = first4(logId);
  return {
    name,
    keyId,
    verify(text: Uint8Array, signature: Uint8Array): boolean {
      try {
        return key.asymmetricKeyType === 'ed25519'
          ? verify(null, text, key, signature)
          : verify('sha256', text, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/** A signer for `name` with a private key; its public side verifies what it signs. */
export function noteSigner(name: string, privateKey: KeyObject): NoteSigner & NoteKey {
  if (privateKey.type !== 'private') throw invalid('signer.key', 'is not a private key');
  const v = noteVerifier(name, createPublicKey(privateKey), 'signer.key');
  return {
    ...v,
    sign(text: Uint8Array): Uint8Array {
      return new Uint8Array(
        v.type === 'ed25519'
          ? sign(null, text, privateKey)
          : sign(ECDSA_HASH, text, { key: privateKey, dsaEncoding: 'der' }),
      );
    },
  };
}

/**
 * The vkey text form `name+hex(keyID)+base64(type || key)`: Ed25519 keys carry the 32-byte key,
 * ECDSA keys (type 0x02) the SPKI DER.
 */
export function formatVerifierKey(key: NoteKey): string {
  const body =
    key.type === 'ed25519'
      ? concat([SIG_TYPE_ED25519], ed25519Raw(key.publicKey))
      : concat([SIG_TYPE_ECDSA], spki(key.publicKey));
  return `${key.name}+${hex8(key.keyId)}+${toBase64(body)}`;
}

/** Parse a vkey and check its key ID against the key it names. */
export function parseVerifierKey(vkey: string, field = 'vkey'): NoteKey {
  // The base64 key may itself contain '+': split at the first two only.
  const a = vkey.indexOf('+');
  const b = a < 0 ? -1 : vkey.indexOf('+', a + 1);
  if (a < 0 || b < 0) throw invalid(field, 'is not of the form name+keyid+key');
  const name = vkey.slice(0, a);
  const idHex = vkey.slice(a + 1, b);
  const b64 = vkey.slice(b + 1);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw invalid(field, 'key ID is not 8 lowercase hex digits');
  const raw = fromBase64(b64, field, false);
  if (raw.length < 2) throw invalid(field, 'key is empty');
  let pub: KeyObject;
  try {
    if (raw[0] === SIG_TYPE_ED25519) {
      if (raw.length !== 33) throw invalid(field, 'Ed25519 key is not 32 bytes');
      pub = createPublicKey({
        key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]),
        format: 'der',
        type: 'spki',
      });
    } else if (raw[0] === SIG_TYPE_ECDSA) {
      pub = createPublicKey({ key: Buffer.from(raw.subarray(1)), format: 'der', type: 'spki' });
    } else {
      throw new SignetError(
        'unsupported',
        'UNSUPPORTED_KEY',
        `is not a verifier key Signet reads: its key begins with the type byte 0x${raw[0]!.toString(16).padStart(2, '0')}, where a vkey (name+keyid+base64) has 0x01 (Ed25519) or 0x02 (ECDSA)`,
        { field },
      );
    }
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw invalid(field, `key does not parse: ${(e as Error).message}`, e);
  }
  const key = noteVerifier(name, pub, field);
  const want = fromHex(idHex, field);
  if (first4(want) !== key.keyId)
    throw invalid(field, `key ID ${idHex} does not match the key (expected ${hex8(key.keyId)})`);
  if ((key.type === 'ed25519') !== (raw[0] === SIG_TYPE_ED25519))
    throw invalid(field, 'signature type does not match the key type');
  return key;
}

function concat(a: number[], b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
