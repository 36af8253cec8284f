import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.ts';
import { readTextFile } from './read-file.ts';

export type KeySpec =
  | { type: 'ec'; curve: 'P-256' | 'P-384' }
  | { type: 'ed25519' }
  | { type: 'rsa'; bits: 2048 | 3072 | 4096 };

export function generateKey(spec: KeySpec): KeyObject {
  switch (spec.type) {
    case 'ec':
      return generateKeyPairSync('ec', { namedCurve: spec.curve }).privateKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: spec.bits }).privateKey;
  }
}

/**
 * Reads a PEM private key (PKCS#8, SEC1 or PKCS#1; encrypted when a passphrase is given); errors
 * name `field`, the setting that named the file, when given.
 */
export function readPrivateKeyFile(file: string, passphrase?: string, field?: string): KeyObject {
  const named = field === undefined ? {} : { field };
  const text = readTextFile(file, 'key file', { code: 'KEY_FILE', ...named });
  try {
    return createPrivateKey(passphrase === undefined ? { key: text } : { key: text, passphrase });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text);
    // OpenSSL says "interrupted or cancelled" when it wanted a passphrase and got none. A wrong
    // passphrase usually fails CBC's padding check ("bad decrypt"), but about one in 256 leaves
    // valid padding and then fails as DER ("unsupported"): for an encrypted key both mean the
    // passphrase did not open it.
    const msg =
      encrypted && passphrase === undefined
        ? 'the key is encrypted: give its passphrase'
        : encrypted || code === 'ERR_OSSL_BAD_DECRYPT' || /bad decrypt/i.test((e as Error).message)
          ? 'wrong passphrase (or the encrypted key is damaged)'
          : `not a private key: ${(e as Error).message}`;
    throw new SignetError('invalid-input', 'KEY_FILE', `${file}: ${msg}`, { cause: e, ...named });
  }
}
