import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { encodePem } from '../../core/encoding/pem.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import {
  parseCertificatesPem,
  verifyCertificateSignature,
  type X509Certificate,
} from '../../core/x509/certificate.ts';
import { bytesEqual } from '../../core/encoding/der.ts';
import { buildCaCertificate, type IssuingCa } from '../../core/x509/fulcio-profile.ts';
import { KeyRing } from '../keyring.ts';
import { readPrivateKeyFile } from '../keys.ts';
import { writeOnce } from '../write-once.ts';
import { readTextFile } from '../read-file.ts';

/**
 * A CA chain the stack issues or issued under (issuing certificate first, root last), with its
 * window in the trusted root: a CA from files the stack no longer uses is kept as its chain
 * only (its key stays with the operator).
 */
export interface CaChainVersion {
  id: number;
  chain: X509Certificate[];
  validFrom: Date;
  validTo?: Date;
}

/** One CA version with its issuing key. */
export interface CaVersion extends CaChainVersion {
  issuing: IssuingCa;
}

export interface CaNames {
  organization: string;
  commonName: string;
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

function sameKey(cert: X509Certificate, key: KeyObject): boolean {
  const spki = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }));
  return bytesEqual(spki, cert.spki);
}

/**
 * The CA created on first start from two key rings, `ca-root` (the self-signed root) and `ca`
 * (the issuing intermediate): each ring version's certificate is stored next to its key as
 * `<id>.crt`. A new `ca` version (key rotation) gets its intermediate from the current root.
 */
export function openRingCa(
  dataDir: string,
  opts: { curve: 'P-256' | 'P-384'; names: CaNames },
): CaVersion[] {
  return ringCa(dataDir, opts);
}

/**
 * The built-in CA's versions that issued, as the data folder holds them, making nothing: [] when
 * it never had one (a stack whose CA has always come from files).
 */
export function readRingCa(dataDir: string): CaVersion[] {
  if (!KeyRing.exists(dataDir, 'ca-root') || !KeyRing.exists(dataDir, 'ca')) return [];
  return ringCa(dataDir, undefined);
}

/** With `make` undefined, nothing is created: a version without its certificate never issued. */
function ringCa(
  dataDir: string,
  make: { curve: 'P-256' | 'P-384'; names: CaNames } | undefined,
): CaVersion[] {
  // The spec only makes a ring that is not there (never without `make`).
  const spec = { type: 'ec' as const, curve: make?.curve ?? 'P-384' };
  const rootRing = KeyRing.open(dataDir, 'ca-root', spec);
  const caRing = KeyRing.open(dataDir, 'ca', spec);
  const rootCerts = new Map<number, X509Certificate>();
  for (const v of rootRing.versions) {
    const file = path.join(rootRing.folder, `${v.id}.crt`);
    if (!fs.existsSync(file)) {
      if (!make) continue;
      const opts = make;
      const notBefore = v.validFrom;
      writeOnce(
        file,
        encodePem(
          'CERTIFICATE',
          buildCaCertificate({
            organization: opts.names.organization,
            commonName: opts.names.commonName,
            publicKeySpki: spkiOf(v.key),
            notBefore,
            notAfter: new Date(notBefore.getTime() + TEN_YEARS_MS),
            selfKey: v.key,
          }),
        ),
      );
    }
    rootCerts.set(v.id, readCert(file));
  }
  const rootVersion = rootRing.current();
  const out: CaVersion[] = [];
  for (const v of caRing.versions) {
    const file = path.join(caRing.folder, `${v.id}.crt`);
    if (!fs.existsSync(file)) {
      if (!make) continue;
      const opts = make;
      const root = { certificate: rootCerts.get(rootVersion.id)!, key: rootVersion.key };
      writeOnce(
        file,
        encodePem(
          'CERTIFICATE',
          buildCaCertificate({
            organization: opts.names.organization,
            commonName: `${opts.names.commonName}-intermediate`,
            publicKeySpki: spkiOf(v.key),
            notBefore: v.validFrom,
            notAfter: new Date(v.validFrom.getTime() + TEN_YEARS_MS),
            issuer: root,
          }),
        ),
      );
    }
    const cert = readCert(file);
    const issuerRoot = [...rootCerts.values()].find(
      (r) =>
        bytesEqual(r.subjectDer, cert.issuerDer) &&
        bytesEqual(
          r.subjectKeyIdentifier ?? new Uint8Array(),
          cert.authorityKeyIdentifier ?? new Uint8Array(1),
        ),
    );
    if (!issuerRoot)
      throw new SignetError('internal', 'CA_CHAIN', `no root for CA version ${v.id}`);
    const version: CaVersion = {
      id: v.id,
      issuing: { certificate: cert, key: v.key },
      chain: [cert, issuerRoot],
      validFrom: v.validFrom,
    };
    if (v.validTo) version.validTo = v.validTo;
    out.push(version);
  }
  return out;
}

function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }));
}

function readCert(file: string): X509Certificate {
  const certs = parseCertificatesPem(fs.readFileSync(file, 'utf8'), file);
  return certs[0]!;
}

/**
 * A CA supplied as files: `certChain` is PEM (issuing certificate first, up to the root) and
 * `key` the issuing certificate's private key, PEM, encrypted when `passphrase` is given.
 * Checked like Fulcio's VerifyCertChain: the key matches chain[0], each certificate is signed
 * by the next and is a CA, and chain[0] may issue code-signing certificates.
 */
export function loadFileCa(opts: {
  certChain: string;
  key: string;
  passphrase?: string;
}): CaVersion[] {
  const text = readTextFile(opts.certChain, 'CA certificate chain', { field: 'ca.certChain' });
  const chain = parseCertificatesPem(text, 'ca.certChain');
  // readPrivateKeyFile's OpenSSL message for a missing passphrase is obscure: say it plainly.
  if (opts.passphrase === undefined && fs.existsSync(opts.key)) {
    if (fs.readFileSync(opts.key, 'utf8').includes('ENCRYPTED'))
      throw invalid(
        'ca.keyPassphrase',
        `the CA key ${opts.key} is encrypted: give ca.keyPassphrase or SIGNET_CA_KEY_PASSPHRASE`,
      );
  }
  const key = readPrivateKeyFile(opts.key, opts.passphrase, 'ca.key');
  const first = chain[0]!;
  if (!sameKey(first, key))
    throw invalid(
      'ca.key',
      'does not match the public key of the first certificate in ca.certChain',
    );
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    if (!c.basicConstraints?.ca) throw invalid(`ca.certChain[${i}]`, 'is not a CA certificate');
    if (!c.keyUsage?.keyCertSign)
      throw invalid(`ca.certChain[${i}]`, 'lacks the keyCertSign key usage');
    const issuer = chain[i + 1] ?? c;
    if (!bytesEqual(issuer.subjectDer, c.issuerDer) || !verifyBy(c, issuer))
      throw invalid(
        `ca.certChain[${i}]`,
        i + 1 < chain.length
          ? `is not signed by ca.certChain[${i + 1}]`
          : 'the last certificate must be a self-signed root',
      );
  }
  if (first.extendedKeyUsage && !first.extendedKeyUsage.includes('1.3.6.1.5.5.7.3.3'))
    throw invalid('ca.certChain[0]', 'has an extended key usage without codeSigning');
  if (!first.subjectKeyIdentifier)
    throw invalid(
      'ca.certChain[0]',
      'has no subject key identifier (leaves need it for their AKI)',
    );
  return [{ id: 1, issuing: { certificate: first, key }, chain, validFrom: first.notBefore }];
}

function verifyBy(c: X509Certificate, issuer: X509Certificate): boolean {
  return verifyCertificateSignature(c, issuer.publicKey);
}

export function chainPems(v: CaVersion): string[] {
  return v.chain.map((c) => encodePem('CERTIFICATE', c.der));
}
