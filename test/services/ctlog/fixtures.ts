import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import {
  buildCaCertificate,
  buildPlainCertificate,
  buildPrecertificate,
  leafTbsSpec,
  type IssuingCa,
} from '../../../src/core/x509/fulcio-profile.ts';

/** Certificates for the CT log tests: real keys and the CA's own certificate builders. */
export const spki = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));

/** A one-day CA: self-signed without `issuer`, else issued by it. */
export function ca(name: string, issuer?: IssuingCa): IssuingCa {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const der = buildCaCertificate({
    organization: name,
    commonName: name,
    publicKeySpki: spki(kp.publicKey),
    notBefore: now,
    notAfter: new Date(now.getTime() + 86400_000),
    ...(issuer ? { issuer } : { selfKey: kp.privateKey }),
  });
  return { certificate: parseCertificate(der), key: kp.privateKey };
}

/** The precertificate and the final certificate `issuer` makes for one fresh key and `email`. */
export function leaf(issuer: IssuingCa, email: string): { pre: Uint8Array; plain: Uint8Array } {
  const spec = leafTbsSpec(issuer, {
    spki: spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
    san: { type: 'email', value: email },
    extensions: { 1: 'https://i', 8: 'https://i' },
  });
  return { pre: buildPrecertificate(issuer, spec).der, plain: buildPlainCertificate(issuer, spec) };
}
