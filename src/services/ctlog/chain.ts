import { invalid } from '../../core/errors.ts';
import { bytesEqual } from '../../core/encoding/der.ts';
import {
  extensionOf,
  OID,
  parseCertificate,
  verifyCertificateSignature,
  type X509Certificate,
} from '../../core/x509/certificate.ts';

/** EKU of a precertificate signing certificate (RFC 6962 §3.1); not supported here. */
const PRECERT_SIGNING_EKU = '1.3.6.1.4.1.11129.2.4.4';

export interface AcceptedChain {
  /** The submitted certificates, parsed, leaf first (a trailing accepted root included). */
  certs: X509Certificate[];
  /** The certificate that signed the leaf (issuer_key_hash is over its key, RFC 6962 §3.2). */
  issuer: X509Certificate;
  /** The chain to store as extra_data: everything after the leaf, ending in the accepted root. */
  rest: Uint8Array[];
}

/**
 * RFC 6962 §4.1/4.2 admission: each certificate is signed by the next, every issuer is a CA,
 * and the chain ends in (or is signed by) one of the accepted roots. `precert` selects whether
 * the leaf must carry the critical poison extension (add-pre-chain) or must not (add-chain).
 */
export function acceptChain(
  chainDer: Uint8Array[],
  roots: readonly X509Certificate[],
  precert: boolean,
): AcceptedChain {
  if (chainDer.length === 0) throw invalid('chain', 'is empty');
  if (chainDer.length > 10) throw invalid('chain', 'has more than 10 certificates');
  const certs = chainDer.map((d, i) => parseCertificate(d, `chain[${i}]`));
  const leaf = certs[0]!;
  const poison = extensionOf(leaf, OID.ctPoison);
  if (precert && !(poison && poison.critical))
    throw invalid('chain[0]', 'is not a precertificate (no critical CT poison extension)');
  if (!precert && poison)
    throw invalid('chain[0]', 'is a precertificate: submit it with add-pre-chain');
  for (let i = 1; i < certs.length; i++) {
    const c = certs[i]!;
    if (!c.basicConstraints?.ca) throw invalid(`chain[${i}]`, 'is not a CA certificate');
    if (c.extendedKeyUsage?.includes(PRECERT_SIGNING_EKU))
      throw invalid(`chain[${i}]`, 'precertificate signing certificates are not supported');
    if (!verifyCertificateSignature(certs[i - 1]!, c.publicKey))
      throw invalid(`chain[${i - 1}]`, `its signature does not verify with the key of chain[${i}]`);
  }
  const last = certs[certs.length - 1]!;
  const rest = chainDer.slice(1);
  const isRoot = roots.some((r) => bytesEqual(r.der, last.der));
  if (!isRoot) {
    const root = roots.find(
      (r) =>
        bytesEqual(r.subjectDer, last.issuerDer) && verifyCertificateSignature(last, r.publicKey),
    );
    if (!root)
      throw invalid(
        `chain[${certs.length - 1}]`,
        `is not issued by a root this log accepts (issuer "${last.issuer}")`,
      );
    rest.push(root.der);
  }
  if (certs.length === 1 && isRoot) throw invalid('chain[0]', 'is an accepted root itself');
  const issuer = certs[1] ?? roots.find((r) => bytesEqual(r.der, rest[rest.length - 1]!))!;
  return { certs, issuer, rest };
}
