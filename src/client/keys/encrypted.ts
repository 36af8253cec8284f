import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { invalid, SignetError } from '../../core/errors.ts';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { parseJsonText } from '../../core/json.ts';
const { randomBytes, scrypt } = process.getBuiltinModule('node:crypto');

/**
 * The passphrase-encrypted envelope cosign keeps private keys in (go-securesystemslib
 * `encrypted` package, used by cosign pkg/cosign/keys.go): a JSON document
 *
 *   {"kdf":{"name":"scrypt","params":{"N":..,"r":8,"p":1},"salt":"<b64 32 bytes>"},
 *    "cipher":{"name":"nacl/secretbox","nonce":"<b64 24 bytes>"},
 *    "ciphertext":"<b64 secretbox output: 16-byte Poly1305 tag || encrypted data>"}
 *
 * key = scrypt(passphrase, salt, N, r, p, 32); ciphertext = XSalsa20-Poly1305(key, nonce).
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** go-securesystemslib's three parameter sets; decryption accepts only these (DoS guard). */
export const SCRYPT_LEGACY: ScryptParams = { N: 1 << 15, r: 8, p: 1 };
export const SCRYPT_STANDARD: ScryptParams = { N: 1 << 16, r: 8, p: 1 };
export const SCRYPT_OWASP: ScryptParams = { N: 1 << 17, r: 8, p: 1 };
const ACCEPTED = [SCRYPT_LEGACY, SCRYPT_STANDARD, SCRYPT_OWASP];

const SALT_SIZE = 32;
const NONCE_SIZE = 24;
const KEY_SIZE = 32;

/** Encrypt `plaintext` under `passphrase`; returns the envelope's JSON bytes (Go field order). */
export async function encryptEnvelope(
  plaintext: Uint8Array,
  passphrase: Uint8Array,
  params: ScryptParams = SCRYPT_STANDARD,
): Promise<Uint8Array> {
  const salt = new Uint8Array(randomBytes(SALT_SIZE));
  const nonce = new Uint8Array(randomBytes(NONCE_SIZE));
  const key = await deriveKey(passphrase, salt, params);
  const sealed = xsalsa20poly1305(key, nonce).encrypt(plaintext);
  key.fill(0);
  const doc = {
    kdf: {
      name: 'scrypt',
      params: { N: params.N, r: params.r, p: params.p },
      salt: toBase64(salt),
    },
    cipher: { name: 'nacl/secretbox', nonce: toBase64(nonce) },
    ciphertext: toBase64(sealed),
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/**
 * Decrypt an envelope. `field` names the input (e.g. the key file) in errors. A wrong
 * passphrase and a tampered ciphertext are indistinguishable (the Poly1305 tag fails):
 * the error says so.
 */
export async function decryptEnvelope(
  json: Uint8Array,
  passphrase: Uint8Array,
  field: string,
): Promise<Uint8Array> {
  const env = parseEnvelope(json, field);
  const key = await deriveKey(passphrase, env.salt, env.params);
  try {
    return xsalsa20poly1305(key, env.nonce).decrypt(env.ciphertext);
  } catch (e) {
    throw new SignetError(
      'invalid-input',
      'WRONG_PASSPHRASE',
      passphrase.length === 0
        ? 'cannot decrypt the private key with an empty passphrase: set COSIGN_PASSWORD (or pipe the passphrase to standard input)'
        : 'cannot decrypt the private key: wrong passphrase (or the key file is damaged)',
      { field, cause: e },
    );
  } finally {
    key.fill(0);
  }
}

interface Envelope {
  params: ScryptParams;
  salt: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

function parseEnvelope(json: Uint8Array, field: string): Envelope {
  let doc: unknown;
  try {
    doc = parseJsonText(json, field);
  } catch (e) {
    throw invalid(field, 'the encrypted key is not JSON', e);
  }
  const o = obj(doc, field);
  const kdf = obj(o.kdf, `${field}.kdf`);
  if (kdf.name !== 'scrypt')
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KDF',
      `KDF "${String(kdf.name)}" is not supported (scrypt is)`,
      {
        field: `${field}.kdf.name`,
      },
    );
  const p = obj(kdf.params, `${field}.kdf.params`);
  const params = { N: p.N, r: p.r, p: p.p };
  if (!ACCEPTED.some((a) => a.N === params.N && a.r === params.r && a.p === params.p))
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KDF',
      `unsupported scrypt parameters N=${String(params.N)} r=${String(params.r)} p=${String(params.p)} (accepted: N=2^15, 2^16 or 2^17 with r=8, p=1)`,
      { field: `${field}.kdf.params` },
    );
  const cipher = obj(o.cipher, `${field}.cipher`);
  if (cipher.name !== 'nacl/secretbox')
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_CIPHER',
      `cipher "${String(cipher.name)}" is not supported (nacl/secretbox is)`,
      { field: `${field}.cipher.name` },
    );
  const salt = b64(kdf.salt, `${field}.kdf.salt`);
  const nonce = b64(cipher.nonce, `${field}.cipher.nonce`);
  if (nonce.length !== NONCE_SIZE)
    throw invalid(`${field}.cipher.nonce`, `must be ${NONCE_SIZE} bytes, got ${nonce.length}`);
  const ciphertext = b64(o.ciphertext, `${field}.ciphertext`);
  if (ciphertext.length < 16) throw invalid(`${field}.ciphertext`, 'is too short');
  return { params: params as ScryptParams, salt, nonce, ciphertext };
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'must be an object');
  return v as Record<string, unknown>;
}

function b64(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string') throw invalid(field, 'must be a base64 string');
  return fromBase64(v, field, false);
}

function deriveKey(passphrase: Uint8Array, salt: Uint8Array, p: ScryptParams): Promise<Uint8Array> {
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is too small for N=2^16.
  const maxmem = 256 * p.N * p.r;
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, KEY_SIZE, { N: p.N, r: p.r, p: p.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(new Uint8Array(key)),
    ),
  );
}
