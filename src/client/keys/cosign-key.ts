import type { KeyObject } from 'node:crypto';
import { invalid, SignetError } from '../../core/errors.ts';
import { decodePemAll, encodePem } from '../../core/encoding/pem.ts';
import { keyDetailsOf } from '../../core/crypto/keys.ts';
import { decryptEnvelope, encryptEnvelope, type ScryptParams } from './encrypted.ts';
const { createPrivateKey, createPublicKey, generateKeyPairSync } =
  process.getBuiltinModule('node:crypto');

/**
 * cosign's key files (cosign pkg/cosign/keys.go): `cosign.key` is a PEM block
 * `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`) whose body is
 * the encrypted envelope (./encrypted.ts) of the PKCS#8 DER private key; `cosign.pub` is a
 * `PUBLIC KEY` (SPKI) PEM block.
 */
export const SIGSTORE_PRIVATE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_PRIVATE_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';

export interface KeyPairFiles {
  /** PEM text of the encrypted private key (write with mode 0600). */
  privatePem: string;
  /** PEM text of the public key. */
  publicPem: string;
}

/** A fresh ECDSA P-256 key pair in cosign's file format (cosign's default key type). */
export async function generateCosignKeyPair(
  passphrase: Uint8Array,
  params?: ScryptParams,
): Promise<KeyPairFiles & { privateKey: KeyObject }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    privatePem: await encryptPrivateKey(privateKey, passphrase, params),
    publicPem: publicKeyPem(publicKey),
  };
}

/** Encrypt a private key into cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` PEM. */
export async function encryptPrivateKey(
  key: KeyObject,
  passphrase: Uint8Array,
  params?: ScryptParams,
): Promise<string> {
  const pkcs8 = new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
  const env = await encryptEnvelope(pkcs8, passphrase, params);
  pkcs8.fill(0);
  return encodePem(SIGSTORE_PRIVATE_KEY_LABEL, env);
}

export function publicKeyPem(key: KeyObject): string {
  return encodePem('PUBLIC KEY', new Uint8Array(key.export({ format: 'der', type: 'spki' })));
}

/** Whether reading the key in `pemText` needs a passphrase (it is an encrypted cosign key). */
export function isEncryptedKey(pemText: string): boolean {
  return (
    pemText.includes(`-----BEGIN ${SIGSTORE_PRIVATE_KEY_LABEL}-----`) ||
    pemText.includes(`-----BEGIN ${COSIGN_PRIVATE_KEY_LABEL}-----`)
  );
}

/**
 * Read a private key: a cosign encrypted key (needs `passphrase()`), or a plain PKCS#8
 * `PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`. The key type must be one
 * Sigstore signs with (P-256/384/521, Ed25519, RSA 2048-4096). `field` leads every error: the
 * flag and the key's name (`--key: cosign.key`).
 */
export async function readPrivateKey(
  pemText: string,
  passphrase: () => Promise<Uint8Array>,
  field: string,
): Promise<KeyObject> {
  let blocks;
  try {
    blocks = decodePemAll(pemText, field);
  } catch (e) {
    throw invalid(field, 'is not a private key (no PEM block found)', e);
  }
  const block = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
  if (!block)
    throw invalid(
      field,
      `is not a private key (found PEM "${blocks[0]!.label}"; expected ${SIGSTORE_PRIVATE_KEY_LABEL}, PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)`,
    );
  let key: KeyObject;
  if (block.label === SIGSTORE_PRIVATE_KEY_LABEL || block.label === COSIGN_PRIVATE_KEY_LABEL) {
    const plain = await decryptEnvelope(block.der, await passphrase(), field);
    key = derPrivateKey(plain, field);
    plain.fill(0);
  } else {
    const type = PLAIN_KEY_TYPES.get(block.label);
    if (type === undefined)
      throw new SignetError(
        'unsupported',
        'UNSUPPORTED_KEY',
        `PEM "${block.label}" is not a supported private key format (encrypted keys other than cosign's are not)`,
        { field },
      );
    key = parseDer(block.der, type, field);
  }
  keyDetailsOf(createPublicKey(key), field); // the key type must be one Sigstore supports
  return key;
}

/** Unencrypted PEM private keys by label: PKCS#8, SEC1 (EC) and PKCS#1 (RSA). */
const PLAIN_KEY_TYPES = new Map<string, 'pkcs8' | 'sec1' | 'pkcs1'>([
  ['PRIVATE KEY', 'pkcs8'],
  ['EC PRIVATE KEY', 'sec1'],
  ['RSA PRIVATE KEY', 'pkcs1'],
]);

/** The decrypted body of a cosign key: PKCS#8 (what cosign writes); SEC1 tolerated. */
function derPrivateKey(der: Uint8Array, field: string): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch {
    return parseDer(der, 'sec1', field);
  }
}

function parseDer(der: Uint8Array, type: 'pkcs8' | 'sec1' | 'pkcs1', field: string): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type });
  } catch (e) {
    throw invalid(field, `is not a valid private key: ${(e as Error).message}`, e);
  }
}
