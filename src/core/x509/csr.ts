import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { invalid, SignetError } from '../errors.ts';
import { decodePemAll } from '../encoding/pem.ts';
import { children, content, readTlv, slice, TAG } from '../encoding/der.ts';
import { SIGNATURE_ALGORITHMS } from './certificate.ts';
import { ecKeyFormProblem } from '../crypto/keys.ts';
const { createPublicKey, verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/** A PKCS#10 certificate signing request (RFC 2986) whose self-signature has been checked. */
export interface VerifiedCsr {
  der: Uint8Array;
  spki: Uint8Array;
  publicKey: KeyObject;
  /** OID of the CSR's signature algorithm. */
  signatureAlgorithm: string;
}

/**
 * Parses a CSR given as PEM text (`CERTIFICATE REQUEST`) or DER and verifies its
 * self-signature over the exact CertificationRequestInfo bytes, with the hash its signature
 * algorithm names (as Fulcio does; every other CSR field is ignored). Errors name `field`.
 */
export function parseAndVerifyCsr(input: Uint8Array, field: string): VerifiedCsr {
  let der = input;
  const text = Buffer.from(input).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = decodePemAll(text, field);
    if (blocks.length !== 1) throw invalid(field, `expected one PEM block, found ${blocks.length}`);
    const b = blocks[0]!;
    if (b.label !== 'CERTIFICATE REQUEST' && b.label !== 'NEW CERTIFICATE REQUEST')
      throw invalid(field, `PEM block "${b.label}" is not a CERTIFICATE REQUEST`);
    der = b.der;
  }
  const outer = readTlv(der, 0, field);
  if (outer.tag !== TAG.SEQUENCE || outer.end !== der.length)
    throw invalid(field, 'is not a DER certificate signing request');
  const parts = children(der, outer, field);
  if (parts.length !== 3 || parts[0]!.tag !== TAG.SEQUENCE || parts[2]!.tag !== TAG.BIT_STRING)
    throw invalid(field, 'is not a PKCS#10 CertificationRequest');
  let csr: CertificationRequest;
  try {
    csr = AsnConvert.parse(der, CertificationRequest);
  } catch (e) {
    throw invalid(field, `is not a valid PKCS#10 request: ${(e as Error).message}`, e);
  }
  const info = parts[0]!;
  const infoFields = children(der, info, field);
  const spkiTlv = infoFields[2];
  if (!spkiTlv || spkiTlv.tag !== TAG.SEQUENCE) throw invalid(field, 'has no subjectPublicKeyInfo');
  const spki = slice(der, spkiTlv);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw invalid(`${field}.subjectPublicKeyInfo`, 'is not a supported public key', e);
  }
  // The certificate carries these bytes: a form Go's x509 cannot read is refused here too.
  const problem = ecKeyFormProblem(publicKey, spki);
  if (problem) throw invalid(`${field}.subjectPublicKeyInfo`, problem);
  const algOid = csr.signatureAlgorithm.algorithm;
  const alg = SIGNATURE_ALGORITHMS[algOid];
  if (!alg)
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_SIGNATURE_ALGORITHM',
      `the CSR's signature algorithm ${algOid} is not supported`,
      { field },
    );
  if (alg.key !== publicKey.asymmetricKeyType)
    throw invalid(
      field,
      `signature algorithm ${algOid} does not match its ${publicKey.asymmetricKeyType} key`,
    );
  const bits = content(der, parts[2]!);
  let ok: boolean;
  try {
    ok = bits[0] === 0 && nodeVerify(alg.hash, slice(der, info), publicKey, bits.subarray(1));
  } catch {
    ok = false;
  }
  if (!ok)
    throw new SignetError(
      'verification',
      'CSR_SIGNATURE',
      'the CSR self-signature does not verify with the key it contains',
      { field },
    );
  return { der, spki, publicKey, signatureAlgorithm: algOid };
}
