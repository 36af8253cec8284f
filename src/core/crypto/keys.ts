import type { KeyObject } from 'node:crypto';
import { invalid, SignetError } from '../errors.ts';
import { decodePemAll } from '../encoding/pem.ts';
const { createPublicKey } = process.getBuiltinModule('node:crypto');

/**
 * protobuf-specs `PublicKeyDetails` names for the key types Sigstore uses
 * (sigstore_common.proto). The name fixes key type, size and the hash of the signature.
 */
export type KeyDetails =
  | 'PKIX_ECDSA_P256_SHA_256'
  | 'PKIX_ECDSA_P384_SHA_384'
  | 'PKIX_ECDSA_P521_SHA_512'
  | 'PKIX_ED25519'
  | 'PKIX_ED25519_PH'
  | 'PKIX_RSA_PKCS1V15_2048_SHA256'
  | 'PKIX_RSA_PKCS1V15_3072_SHA256'
  | 'PKIX_RSA_PKCS1V15_4096_SHA256';

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export const HASH_SIZE: Record<HashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** The hash a key type signs with by default (Fulcio's and Rekor's default schemes). */
export function defaultHash(details: KeyDetails): HashAlgorithm {
  switch (details) {
    case 'PKIX_ECDSA_P384_SHA_384':
      return 'sha384';
    case 'PKIX_ECDSA_P521_SHA_512':
    case 'PKIX_ED25519_PH':
      return 'sha512';
    default:
      return 'sha256';
  }
}

/** The schemes a message signature (hashedrekord) may use: all but pure Ed25519. */
export type MessageScheme = Exclude<KeyDetails, 'PKIX_ED25519'>;

/**
 * The scheme a key signs messages (artifacts, hashedrekord entries) with. Ed25519 keys sign
 * them as Ed25519ph over SHA-512 (RFC 8032 §5.1), the only Ed25519 scheme Rekor's hashedrekord
 * takes (rekor #1325, rekor-tiles' allow-list); DSSE envelopes stay pure Ed25519 over the PAE
 * (sigstore-go's convention). Every other key's scheme is its own.
 */
export function messageScheme(details: KeyDetails): MessageScheme {
  return details === 'PKIX_ED25519' ? 'PKIX_ED25519_PH' : details;
}

/** The hash of a key's message signatures (`messageDigest`, hashedrekord): SHA-512 for Ed25519. */
export function messageHash(details: KeyDetails): HashAlgorithm {
  return defaultHash(messageScheme(details));
}

/** Parse a public key from PEM (`PUBLIC KEY` or a `CERTIFICATE`, whose key is taken) or SPKI DER. */
export function parsePublicKey(input: string | Uint8Array, field: string): KeyObject {
  try {
    if (typeof input === 'string') {
      const block = decodePemAll(input, field)[0]!;
      if (block.label === 'CERTIFICATE') return createPublicKey({ key: input, format: 'pem' });
      if (
        block.label !== 'PUBLIC KEY' &&
        block.label !== 'RSA PUBLIC KEY' &&
        block.label !== 'EC PUBLIC KEY'
      )
        throw invalid(field, `PEM block "${block.label}" is not a public key`);
      return createPublicKey({
        key: Buffer.from(block.der),
        format: 'der',
        type: block.label === 'RSA PUBLIC KEY' ? 'pkcs1' : 'spki',
      });
    }
    return createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw invalid(field, `is not a public key: ${(e as Error).message}`, e);
  }
}

/**
 * The details of keys already asked about: node:crypto builds a new object for every read of
 * `asymmetricKeyDetails`, and a verifier asks for the same certificate key again and again.
 */
const detailsOf = new WeakMap<KeyObject, KeyDetails>();

/** The `KeyDetails` of a public key, or a SignetError when the type or size is not supported. */
export function keyDetailsOf(key: KeyObject, field: string): KeyDetails {
  let details = detailsOf.get(key);
  if (details === undefined) {
    details = readKeyDetails(key, field);
    detailsOf.set(key, details);
  }
  return details;
}

function readKeyDetails(key: KeyObject, field: string): KeyDetails {
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (t === 'ec') {
    switch (d.namedCurve) {
      case 'prime256v1':
        return 'PKIX_ECDSA_P256_SHA_256';
      case 'secp384r1':
        return 'PKIX_ECDSA_P384_SHA_384';
      case 'secp521r1':
        return 'PKIX_ECDSA_P521_SHA_512';
    }
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `EC curve ${d.namedCurve} is not supported (P-256, P-384, P-521 are)`,
      { field },
    );
  }
  if (t === 'ed25519') return 'PKIX_ED25519';
  if (t === 'rsa') {
    // Go's crypto/rsa (Fulcio, Rekor, cosign, sigstore-go) refuses an exponent above 2^31 - 1,
    // and a huge one makes every verify cost as much as a signature (8.5 ms for a 3070-bit e,
    // 0.08 ms for 65537: a red-team review held the log's event loop 2.5 s with 16 such keys).
    const e = d.publicExponent;
    if (typeof e !== 'bigint' || e < 3n || e > 0x7fffffffn)
      throw new SignetError(
        'unsupported',
        'UNSUPPORTED_KEY',
        `RSA public exponent ${typeof e === 'bigint' && e > 0xffffffffn ? `of ${e.toString(2).length} bits` : String(e)} is not supported (3 to 2^31 - 1, as Go reads RSA keys; 65537 is usual)`,
        { field },
      );
    switch (d.modulusLength) {
      case 2048:
        return 'PKIX_RSA_PKCS1V15_2048_SHA256';
      case 3072:
        return 'PKIX_RSA_PKCS1V15_3072_SHA256';
      case 4096:
        return 'PKIX_RSA_PKCS1V15_4096_SHA256';
    }
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `RSA key size ${d.modulusLength} is not supported (2048, 3072, 4096 are)`,
      { field },
    );
  }
  throw new SignetError('unsupported', 'UNSUPPORTED_KEY', `key type ${t} is not supported`, {
    field,
  });
}

/** SubjectPublicKeyInfo DER of a key. */
export function spkiDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

/**
 * The SPKI DER of a named-curve EC key with an uncompressed point, up to the point: the
 * AlgorithmIdentifier (id-ecPublicKey, the curve's OID; RFC 5480 §2) and the BIT STRING header.
 */
const EC_SPKI_PREFIX: Record<string, { prefix: Buffer; coordinate: number }> = {
  prime256v1: {
    prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
    coordinate: 32,
  },
  secp384r1: {
    prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
    coordinate: 48,
  },
  secp521r1: {
    prefix: Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex'),
    coordinate: 66,
  },
};

/** Whether `spki` is the one DER form of a named-curve EC key with an uncompressed point. */
function isCanonicalEcSpki(spki: Uint8Array, ec: { prefix: Buffer; coordinate: number }): boolean {
  return (
    spki.length === ec.prefix.length + 1 + 2 * ec.coordinate &&
    spki[ec.prefix.length] === 0x04 &&
    ec.prefix.compare(spki, 0, ec.prefix.length) === 0
  );
}

/**
 * Why the SPKI `spki` of the EC key `key` is refused, or undefined when it is not refused: a key
 * on a curve Signet signs with must name its curve and carry its point uncompressed. RFC 5480
 * §2.1.1 forbids specifiedCurve in PKIX; a compressed point (§2.2, optional there) is read by
 * OpenSSL but not by Go's x509 (Fulcio, Rekor, cosign, sigstore-go: "failed to unmarshal
 * elliptic curve point"), so a certificate or log entry keeping either form is one their
 * clients cannot read, and the same key in two forms would make two entries and miss searches.
 * Keys of other types and curves are left to the key policy.
 */
export function ecKeyFormProblem(key: KeyObject, spki: Uint8Array): string | undefined {
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const ec = EC_SPKI_PREFIX[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (!ec || isCanonicalEcSpki(spki, ec)) return undefined;
  return 'is an EC key with a compressed point or explicit curve parameters: send the named curve and the uncompressed point (RFC 5480), the only form Go clients read';
}

/**
 * A public key read from SubjectPublicKeyInfo DER, with the canonical SPKI DER of that key (what a
 * certificate for it carries). An EC key on a named curve with an uncompressed point, which is
 * what clients send, has one DER encoding: the curve's fixed prefix, 0x04 and the coordinates;
 * when `given` is exactly that form for the curve OpenSSL read from it, the key was decoded from
 * these very bytes (OpenSSL refuses coordinates off the curve or not below p), so `given` is the
 * encoding and is returned as is. Another form of such a key is refused (ecKeyFormProblem); RSA
 * and Ed25519 keys are exported. OpenSSL 3's generic key encoder costs more than an ECDSA P-256
 * signature (bench/ca); reading the coordinates back out (JWK export) still cost a tenth of one
 * per request.
 */
export function readSpki(given: Uint8Array, field: string): { key: KeyObject; spki: Uint8Array } {
  const b = Buffer.from(given.buffer, given.byteOffset, given.length);
  const key = createPublicKey({ key: b, format: 'der', type: 'spki' });
  const ec =
    key.asymmetricKeyType === 'ec'
      ? EC_SPKI_PREFIX[key.asymmetricKeyDetails?.namedCurve ?? '']
      : undefined;
  if (ec && isCanonicalEcSpki(given, ec)) return { key, spki: given };
  const problem = ecKeyFormProblem(key, given);
  if (problem) throw invalid(field, problem);
  return { key, spki: spkiDer(key) };
}
