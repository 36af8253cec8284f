import type { KeyObject } from 'node:crypto';
import { invalid, reasonOf, SignetError } from '../errors.ts';
import { decodePemAll, encodePem } from '../encoding/pem.ts';
import { type EcCurveName, type EcPoint, ecPointFromUncompressed } from '../crypto/ecdsa.ts';
import { ecKeyFormProblem, type KeyDetails, keyDetailsOf } from '../crypto/keys.ts';
import { parseCertificate, type X509Certificate } from '../x509/certificate.ts';
import { fulcioIssuer } from '../x509/fulcio-extensions.ts';
const { createPublicKey, hash } = process.getBuiltinModule('node:crypto');

/**
 * The key material that verifies an entry's signature: a public key or an X.509 certificate
 * (whose chain Rekor does not validate). Parsed once at the edge; `key` is built lazily because
 * importing a KeyObject costs more than a whole ECDSA verification on the admission hot path.
 */
export interface VerifierMaterial {
  type: 'publicKey' | 'certificate';
  /** SPKI DER of the verifying key. */
  spki: Uint8Array;
  /** DER of the certificates (leaf first) when `type` is `certificate`. */
  certificates: Uint8Array[];
  /** The key's natural scheme (ECDSA curve + hash, RSA size, Ed25519). */
  details: KeyDetails;
  /** The affine point for ECDSA keys. */
  point?: EcPoint;
  /** The parsed leaf certificate. */
  certificate?: X509Certificate;
  readonly key: KeyObject;
}

// DER prefixes of SubjectPublicKeyInfo for id-ecPublicKey with a named curve and an
// uncompressed point (RFC 5480 §2): the only form Go and OpenSSL write for these curves.
const EC_SPKI_PREFIX: Record<EcCurveName, Buffer> = {
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
  'P-521': Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex'),
};
const EC_DETAILS: Record<EcCurveName, KeyDetails> = {
  'P-256': 'PKIX_ECDSA_P256_SHA_256',
  'P-384': 'PKIX_ECDSA_P384_SHA_384',
  'P-521': 'PKIX_ECDSA_P521_SHA_512',
};

function lazyKey(spki: Uint8Array, field: string): () => KeyObject {
  let key: KeyObject | undefined;
  return () => {
    if (!key) {
      try {
        key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      } catch (e) {
        throw invalid(field, `is not a public key: ${reasonOf(e)}`, e);
      }
    }
    return key;
  };
}

/** A public key from SubjectPublicKeyInfo DER. */
export function publicKeyFromSpki(spki: Uint8Array, field: string): VerifierMaterial {
  for (const curve of Object.keys(EC_SPKI_PREFIX) as EcCurveName[]) {
    const prefix = EC_SPKI_PREFIX[curve];
    if (spki.length >= prefix.length && prefix.compare(spki, 0, prefix.length) === 0) {
      const point = ecPointFromUncompressed(curve, spki.subarray(prefix.length));
      if (!point)
        throw invalid(field, `is not a valid ${curve} public key (point not on the curve)`);
      const get = lazyKey(spki, field);
      return {
        type: 'publicKey',
        spki,
        certificates: [],
        details: EC_DETAILS[curve],
        point,
        get key() {
          return get();
        },
      };
    }
  }
  const key = lazyKey(spki, field)();
  // An EC key of a curve above that reached here is in another form than the one its prefix
  // names: Rekor (Go's x509) refuses it, and kept as given it would be a second entry.
  const problem = ecKeyFormProblem(key, spki);
  if (problem) throw invalid(field, problem);
  const canonical = new Uint8Array(key.export({ format: 'der', type: 'spki' }));
  if (!Buffer.from(canonical).equals(Buffer.from(spki)))
    throw invalid(field, 'is not a DER SubjectPublicKeyInfo (trailing or non-canonical bytes)');
  return { type: 'publicKey', spki, certificates: [], details: keyDetailsOf(key, field), key };
}

/** A certificate chain (leaf first) from DER; the leaf's key verifies. */
export function certificatesFromDer(ders: Uint8Array[], field: string): VerifierMaterial {
  const leaf = parseCertificate(ders[0]!, field);
  for (let i = 1; i < ders.length; i++) parseCertificate(ders[i]!, `${field}[${i}]`);
  const inner = publicKeyFromSpki(leaf.spki, field);
  const m: VerifierMaterial = {
    type: 'certificate',
    spki: leaf.spki,
    certificates: ders,
    details: inner.details,
    certificate: leaf,
    key: leaf.publicKey,
  };
  if (inner.point) m.point = inner.point;
  return m;
}

/** Decodes PEM bytes (made once: a decoder per admission cost more than the decoding). */
const PEM_TEXT = new TextDecoder('utf-8', { fatal: false });

/**
 * Rekor v1's x509 "public key" PEM (rekor pkg/pki/x509 NewPublicKey): one `PUBLIC KEY` block,
 * one `CERTIFICATE`, or a chain of up to 10 certificates (leaf first).
 */
export function verifierFromPem(pemBytes: Uint8Array, field: string): VerifierMaterial {
  const text = PEM_TEXT.decode(pemBytes);
  const blocks = decodePemAll(text, field);
  if (blocks.length > 1 || blocks[0]!.label === 'CERTIFICATE') {
    if (blocks.length > 10) throw invalid(field, 'has more than 10 certificates');
    for (const b of blocks)
      if (b.label !== 'CERTIFICATE')
        throw invalid(field, `PEM block "${b.label}" in a certificate chain is not a CERTIFICATE`);
    return certificatesFromDer(
      blocks.map((b) => b.der),
      field,
    );
  }
  if (blocks[0]!.label !== 'PUBLIC KEY')
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `PEM block "${blocks[0]!.label}" is not supported (PUBLIC KEY or CERTIFICATE are)`,
      { field },
    );
  return publicKeyFromSpki(blocks[0]!.der, field);
}

/** The PEM Rekor v1 stores for a verifier (Go's pem.Encode of the DER: canonical form). */
export function canonicalPem(m: VerifierMaterial): string {
  if (m.type === 'publicKey') return encodePem('PUBLIC KEY', m.spki);
  return m.certificates.map((c) => encodePem('CERTIFICATE', c)).join('');
}

const sha256Hex = (b: Uint8Array): string => hash('sha256', b, 'hex');

/**
 * The identity search key: the SAN exactly as the certificate carries it, whatever its type.
 * The indexer and every query route build the key with this one function, so a search is an
 * exact match and cannot depend on guessing the SAN type from the query text.
 */
export function identitySearchKey(san: string): string {
  return `identity:${san}`;
}

/**
 * Rekor v1's email search (SearchIndex `email`) is case-insensitive, as Rekor's index is: email
 * SANs are also indexed under this key, and the v1 route queries it.
 */
export function emailSearchKey(email: string): string {
  return `email:${email.toLowerCase()}`;
}

/** The OIDC issuer search key (Fulcio extension 1.3.6.1.4.1.57264.1.8, else .1). */
export function issuerSearchKey(issuer: string): string {
  return `issuer:${issuer}`;
}

/**
 * Search keys for a verifier (Signet's index, shared by the v1 and v2 APIs):
 * - `key:<hex SHA-256 of SPKI DER>` — the key's fingerprint, the same for a key and a
 *   certificate of that key, and whichever encoding (PEM, DER) the entry used;
 * - `cert:<hex SHA-256 of the leaf certificate DER>`;
 * - `identity:<SAN>` for each subject alternative name, exactly (identitySearchKey), and
 *   `email:<lower-cased>` for email SANs (emailSearchKey, Rekor v1's case-insensitive search);
 * - `issuer:<OIDC issuer>` from the Fulcio extension (1.3.6.1.4.1.57264.1.8, else .1).
 */
export function verifierSearchKeys(m: VerifierMaterial): string[] {
  const keys = [`key:${sha256Hex(m.spki)}`];
  const c = m.certificate;
  if (c) {
    keys.push(`cert:${sha256Hex(c.der)}`);
    for (const san of c.subjectAltNames) {
      keys.push(identitySearchKey(san.value));
      if (san.type === 'email') keys.push(emailSearchKey(san.value));
    }
    let issuer: string | undefined;
    try {
      issuer = fulcioIssuer(c);
    } catch {
      issuer = undefined; // a malformed extension is not Rekor's business; no issuer key
    }
    if (issuer) keys.push(issuerSearchKey(issuer));
  }
  return keys;
}

/** `key:<fingerprint>` of a PEM or DER key/certificate given in a search request. */
export function keySearchKey(m: VerifierMaterial): string {
  return `key:${sha256Hex(m.spki)}`;
}
