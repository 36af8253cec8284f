import { createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseCertificate, type X509Certificate } from '../../../src/core/x509/certificate.ts';

/** Real public-good Fulcio certificates from the conformance corpus (test/fixtures/conformance). */
export const CONFORMANCE = path.resolve(import.meta.dirname, '../../fixtures/conformance');
const CASES = path.join(CONFORMANCE, 'bundle-verify');

interface TrustedRootJson {
  certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
  ctlogs: Array<{
    logId: { keyId: string };
    publicKey: { rawBytes: string; keyDetails: string };
  }>;
}

export interface Fixture {
  name: string;
  leaf: X509Certificate;
  /** Every CA certificate of the case's trusted root. */
  cas: X509Certificate[];
  ctlogs: Array<{ logId: Uint8Array; publicKey: KeyObject }>;
}

function readRoot(file: string): TrustedRootJson {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as TrustedRootJson;
}

export function loadFixture(name: string): Fixture {
  const dir = path.join(CASES, name);
  const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'bundle.sigstore.json'), 'utf8')) as {
    verificationMaterial: {
      certificate?: { rawBytes: string };
      x509CertificateChain?: { certificates: Array<{ rawBytes: string }> };
    };
  };
  const vm = bundle.verificationMaterial;
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain!.certificates[0]!.rawBytes;
  const rootFile = fs.existsSync(path.join(dir, 'trusted_root.json'))
    ? path.join(dir, 'trusted_root.json')
    : path.join(CONFORMANCE, 'trust-roots/production/trusted_root.json');
  const root = readRoot(rootFile);
  return {
    name,
    leaf: parseCertificate(new Uint8Array(Buffer.from(raw, 'base64'))),
    cas: root.certificateAuthorities.flatMap((ca) =>
      ca.certChain.certificates.map((c) =>
        parseCertificate(new Uint8Array(Buffer.from(c.rawBytes, 'base64'))),
      ),
    ),
    ctlogs: root.ctlogs.map((l) => ({
      logId: new Uint8Array(Buffer.from(l.logId.keyId, 'base64')),
      publicKey: createPublicKey({
        key: Buffer.from(l.publicKey.rawBytes, 'base64'),
        format: 'der',
        type: l.publicKey.keyDetails === 'PKCS1_RSA_PKCS1V5' ? 'pkcs1' : 'spki',
      }),
    })),
  };
}

/** The CA certificate whose SKI is the leaf's AKI. */
export function issuerOf(f: Fixture): X509Certificate {
  const aki = Buffer.from(f.leaf.authorityKeyIdentifier ?? []);
  const ca = f.cas.find((c) => c.subjectKeyIdentifier && aki.equals(c.subjectKeyIdentifier));
  if (!ca) throw new Error(`no issuer for ${f.name}`);
  return ca;
}

/** Cases whose bundle carries a Fulcio leaf with embedded SCTs and whose issuer is known. */
export const SCT_CASES = [
  'happy-path-v0.1',
  'happy-path-v0.2',
  'happy-path-v0.3',
  'happy-path-intoto-in-dsse-v3',
  'integrated-time-in-future_fail',
  'bundle-with-root-cert_fail',
  'bundle-with-sct-with-extensions',
  'rekor2-happy-path',
  'rekor2-dsse-happy-path',
];
