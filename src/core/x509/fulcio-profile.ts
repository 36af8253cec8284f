import type { KeyObject } from 'node:crypto';
import { invalid } from '../errors.ts';
import { encodeSctListExtension, type Sct } from '../ct/sct.ts';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  encodeName,
  encodeTbs,
  type ExtensionSpec,
  extKeyUsageValue,
  keyIdentifier,
  keyUsageValue,
  NAME_OID,
  POISON_EXTENSION,
  randomSerial,
  type SanValue,
  signatureAlgorithmFor,
  signTbs,
  signTbsAsync,
  subjectAltNameValue,
  subjectKeyIdentifierValue,
  type TbsSpec,
} from './build.ts';
import { OID, type X509Certificate } from './certificate.ts';
import { encodeFulcioExtension, FULCIO_EXTENSION_ORDER, fulcioOid } from './fulcio-extensions.ts';

/** The key and certificate that sign leaves (Fulcio's intermediate). */
export interface IssuingCa {
  certificate: X509Certificate;
  key: KeyObject;
}

export interface LeafRequest {
  /** SubjectPublicKeyInfo DER of the requester's key. */
  spki: Uint8Array;
  san: SanValue;
  /** Fulcio extension values by arc (1..6, 8..24); 1 and 8 are mandatory. */
  extensions: Partial<Record<number, string>>;
  notBefore?: Date;
  serial?: Uint8Array;
}

/** Fulcio leaf validity (pkg/ca/common.go MakeX509). */
export const LEAF_VALIDITY_MS = 10 * 60 * 1000;

/**
 * The leaf TBS fields of Fulcio's profile (servers.md 1.4), without the last (poison/SCT)
 * extension. Extension order is Go's crypto/x509 order as observed on public-good leaves:
 * KU (critical) · EKU · SKI · AKI · SAN (critical: empty subject) · 57264.1.1..6, .8..24.
 */
export function leafTbsSpec(ca: IssuingCa, req: LeafRequest): TbsSpec {
  const ext = req.extensions;
  if (!ext[1] || !ext[8])
    throw invalid('principal.extensions', 'the issuer extensions (.1 and .8) are mandatory');
  if (!ca.certificate.subjectKeyIdentifier)
    throw invalid('ca.certificate', 'the issuing CA certificate has no subject key identifier');
  const notBefore = new Date(Math.floor((req.notBefore ?? new Date()).getTime() / 1000) * 1000);
  const extensions: ExtensionSpec[] = [
    { oid: OID.keyUsage, critical: true, value: keyUsageValue(['digitalSignature']) },
    { oid: OID.extKeyUsage, critical: false, value: extKeyUsageValue([OID.codeSigning]) },
    {
      oid: OID.subjectKeyIdentifier,
      critical: false,
      value: subjectKeyIdentifierValue(keyIdentifier(req.spki)),
    },
    {
      oid: OID.authorityKeyIdentifier,
      critical: false,
      value: authorityKeyIdentifierValue(ca.certificate.subjectKeyIdentifier),
    },
    { oid: OID.subjectAltName, critical: true, value: subjectAltNameValue(req.san) },
  ];
  for (const arc of FULCIO_EXTENSION_ORDER) {
    const v = ext[arc];
    if (v === undefined || v === '') continue;
    extensions.push({ oid: fulcioOid(arc), critical: false, value: encodeFulcioExtension(arc, v) });
  }
  return {
    serial: req.serial ?? randomSerial(),
    signatureAlgorithm: signatureAlgorithmFor(ca.key).der,
    issuer: ca.certificate.subjectDer,
    subject: encodeName([]),
    notBefore,
    notAfter: new Date(notBefore.getTime() + LEAF_VALIDITY_MS),
    spki: req.spki,
    extensions,
  };
}

export interface Precertificate {
  spec: TbsSpec;
  /** The precertificate DER (poison last, signed by the issuing CA key: RFC 6962 §3.1). */
  der: Uint8Array;
}

export function buildPrecertificate(ca: IssuingCa, spec: TbsSpec): Precertificate {
  const tbs = encodeTbs({ ...spec, extensions: [...spec.extensions, POISON_EXTENSION] });
  return { spec, der: signTbs(tbs, ca.key) };
}

/** The final certificate: the same TBS with the SCT list where the poison was (servers.md 1.8). */
export function buildFinalCertificate(ca: IssuingCa, spec: TbsSpec, scts: Sct[]): Uint8Array {
  const sctExt: ExtensionSpec = {
    oid: OID.sctList,
    critical: false,
    value: encodeSctListExtension(scts),
  };
  return signTbs(encodeTbs({ ...spec, extensions: [...spec.extensions, sctExt] }), ca.key);
}

/** `buildPrecertificate` with the CA signature off the event loop (see signTbsAsync). */
export async function buildPrecertificateAsync(
  ca: IssuingCa,
  spec: TbsSpec,
): Promise<Precertificate> {
  const tbs = encodeTbs({ ...spec, extensions: [...spec.extensions, POISON_EXTENSION] });
  return { spec, der: await signTbsAsync(tbs, ca.key) };
}

/** `buildFinalCertificate` with the CA signature off the event loop. */
export async function buildFinalCertificateAsync(
  ca: IssuingCa,
  spec: TbsSpec,
  scts: Sct[],
): Promise<Uint8Array> {
  const sctExt: ExtensionSpec = {
    oid: OID.sctList,
    critical: false,
    value: encodeSctListExtension(scts),
  };
  return signTbsAsync(encodeTbs({ ...spec, extensions: [...spec.extensions, sctExt] }), ca.key);
}

/** A leaf without CT (no log configured). */
export function buildPlainCertificate(ca: IssuingCa, spec: TbsSpec): Uint8Array {
  return signTbs(encodeTbs(spec), ca.key);
}

export interface CaCertificateSpec {
  /** Subject organization and common name (public good: sigstore.dev / sigstore[-intermediate]). */
  organization: string;
  commonName: string;
  /** The certified key (public or private KeyObject). */
  publicKeySpki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Undefined for a self-signed root. */
  issuer?: IssuingCa;
  /** The signing key of a self-signed root. */
  selfKey?: KeyObject;
}

/**
 * A CA certificate (Fulcio certificate-specification.md): root = CA:TRUE, KU certSign+crlSign,
 * no EKU; intermediate = CA:TRUE pathlen 0, KU certSign+crlSign, EKU codeSigning.
 */
export function buildCaCertificate(spec: CaCertificateSpec): Uint8Array {
  const signer = spec.issuer?.key ?? spec.selfKey;
  if (!signer) throw new Error('a CA certificate needs an issuer or a self-signing key');
  const subject = encodeName([
    [NAME_OID.organization, spec.organization],
    [NAME_OID.commonName, spec.commonName],
  ]);
  const ski = keyIdentifier(spec.publicKeySpki);
  const extensions: ExtensionSpec[] = [
    { oid: OID.keyUsage, critical: true, value: keyUsageValue(['keyCertSign', 'cRLSign']) },
  ];
  if (spec.issuer)
    extensions.push({
      oid: OID.extKeyUsage,
      critical: false,
      value: extKeyUsageValue([OID.codeSigning]),
    });
  extensions.push(
    {
      oid: OID.basicConstraints,
      critical: true,
      value: basicConstraintsValue(true, spec.issuer ? 0 : 1),
    },
    { oid: OID.subjectKeyIdentifier, critical: false, value: subjectKeyIdentifierValue(ski) },
  );
  if (spec.issuer?.certificate.subjectKeyIdentifier)
    extensions.push({
      oid: OID.authorityKeyIdentifier,
      critical: false,
      value: authorityKeyIdentifierValue(spec.issuer.certificate.subjectKeyIdentifier),
    });
  const tbs = encodeTbs({
    serial: randomSerial(),
    signatureAlgorithm: signatureAlgorithmFor(signer).der,
    issuer: spec.issuer?.certificate.subjectDer ?? subject,
    subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    spki: spec.publicKeySpki,
    extensions,
  });
  return signTbs(tbs, signer);
}
