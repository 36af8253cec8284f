import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  encodeName,
  encodeTbs,
  type ExtensionSpec,
  extKeyUsageValue,
  keyIdentifier as spkiKeyIdentifier,
  keyUsageValue,
  NAME_OID,
  randomSerial,
  signatureAlgorithmFor,
  signTbs,
  subjectKeyIdentifierValue,
} from '../../core/x509/build.ts';
import { OID } from '../../core/rfc3161/oids.ts';

/**
 * The TSA's own small PKI: a self-signed root and one signing certificate per TSA key version,
 * following the profile Sigstore's TSA requires of its chain (tsa:pkg/x509/x509.go
 * VerifyCertChain; RFC 3161 §2.3): the leaf is an end entity with digitalSignature key usage
 * and exactly one extended key usage, timeStamping, marked critical. Encoded with the
 * project's certificate builder (core/x509/build.ts).
 */
export interface CertificateSpec {
  subject: { organization: string; commonName: string };
  issuer: { organization: string; commonName: string };
  subjectKey: KeyObject; // public or private: only the public part is used
  issuerKey: KeyObject; // private
  /** SubjectKeyIdentifier of the issuer (for AuthorityKeyIdentifier); self when absent. */
  issuerKeyId?: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  /** Serial number bytes (positive); random when absent. */
  serial?: Uint8Array;
  /** Extended key usage of a leaf; default: timeStamping only, critical (RFC 3161 §2.3). */
  extKeyUsage?: { critical: boolean; oids: string[] } | null;
}

const X509_EXT = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
};

function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/** SubjectKeyIdentifier of a key (RFC 5280 §4.2.1.2 method 1). */
export function keyIdentifier(key: KeyObject): Uint8Array {
  return spkiKeyIdentifier(spkiOf(key));
}

function name(n: { organization: string; commonName: string }): Uint8Array {
  return encodeName([
    [NAME_OID.organization, n.organization],
    [NAME_OID.commonName, n.commonName],
  ]);
}

/** Issues a DER certificate for `spec`. */
export function issueCertificate(spec: CertificateSpec): Uint8Array {
  const spki = spkiOf(spec.subjectKey);
  const ski = spkiKeyIdentifier(spki);
  const extensions: ExtensionSpec[] = [
    {
      oid: X509_EXT.keyUsage,
      critical: true,
      value: keyUsageValue(spec.ca ? ['keyCertSign', 'cRLSign'] : ['digitalSignature']),
    },
    {
      oid: X509_EXT.basicConstraints,
      critical: true,
      value: basicConstraintsValue(spec.ca, spec.ca ? 0 : undefined),
    },
    { oid: X509_EXT.subjectKeyId, critical: false, value: subjectKeyIdentifierValue(ski) },
    {
      oid: X509_EXT.authorityKeyId,
      critical: false,
      value: authorityKeyIdentifierValue(spec.issuerKeyId ?? ski),
    },
  ];
  const eku =
    spec.extKeyUsage === undefined
      ? { critical: true, oids: [OID.timeStamping] }
      : spec.extKeyUsage;
  if (!spec.ca && eku)
    extensions.push({
      oid: OID.extKeyUsage,
      critical: eku.critical,
      value: extKeyUsageValue(eku.oids),
    });
  const tbs = encodeTbs({
    serial: spec.serial ?? randomSerial(),
    signatureAlgorithm: signatureAlgorithmFor(spec.issuerKey).der,
    issuer: name(spec.issuer),
    subject: name(spec.subject),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    spki,
    extensions,
  });
  return signTbs(tbs, spec.issuerKey);
}
