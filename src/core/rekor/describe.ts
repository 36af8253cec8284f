import { invalid } from '../errors.ts';
import { toHex } from '../encoding/hex.ts';
import { array, base64, isObject, object, optionalString, string } from './json.ts';
import { verifierFromPem } from './verifier.ts';

/**
 * What a stored (canonical) log entry body says, for people: its kind and version, the digests
 * it records and who signed. The shapes are the canonical bodies this log writes (v1.ts, v2.ts;
 * rekor pkg/types/*: hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2; rekor-tiles hashedrekord and
 * dsse 0.0.2). Reading, not verifying: the signature checks were made on admission.
 */
export interface EntryDescription {
  kind: string;
  apiVersion: string;
  /** Recorded digests, hex, with what each one is a digest of. */
  digests: Array<{ algorithm: string; hex: string; of: DigestOf }>;
  /** The signers' certificates (leaf DER) or public keys (SPKI DER), in body order. */
  signers: Array<
    { type: 'certificate'; der: Uint8Array } | { type: 'publicKey'; spki: Uint8Array }
  >;
  /** DSSE payload type, when the body records it (intoto 0.0.2). */
  payloadType?: string;
}

/**
 * What a recorded digest is of, in the entry types' own words:
 * - `data`: hashedrekord's `data`, what the signature covers (rekor "the hashed data"). A signed
 *   file's digest, or, for a DSSE envelope logged by digest (Rekor v2 logs every ECDSA or RSA
 *   envelope so: rekor-tiles dsse.proto "use HashedRekordRequestV002 with the hash of the DSSE
 *   PAE instead"; Rekor v1 a large one), the digest of its PAE. The body does not say which.
 * - `payload`: dsse and intoto `payloadHash`, the DSSE payload (an in-toto statement).
 * - `envelope`: dsse `envelopeHash`, intoto `hash`, the whole signed envelope.
 */
export type DigestOf = 'data' | 'payload' | 'envelope';

// protobuf HashAlgorithm names (v2 bodies) as the digest prefixes people search by.
const V2_HASH = new Map([
  ['SHA2_256', 'sha256'],
  ['SHA2_384', 'sha384'],
  ['SHA2_512', 'sha512'],
]);

export function describeEntryBody(leaf: Uint8Array, field = 'body'): EntryDescription {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(leaf));
  } catch (e) {
    throw invalid(field, 'is not a JSON document', e);
  }
  const top = object(value, field);
  const kind = string(top.kind, `${field}.kind`);
  const apiVersion = string(top.apiVersion, `${field}.apiVersion`);
  const spec = object(top.spec, `${field}.spec`);
  const p = `${field}.spec`;
  const out: EntryDescription = { kind, apiVersion, digests: [], signers: [] };
  const pem = (v: unknown, path: string) => {
    const m = verifierFromPem(base64(v, path), path);
    out.signers.push(
      m.type === 'certificate'
        ? { type: 'certificate', der: m.certificates[0]! }
        : { type: 'publicKey', spki: m.spki },
    );
  };
  const v1Hash = (v: unknown, path: string, of: DigestOf) => {
    const h = object(v, path);
    out.digests.push({
      algorithm: string(h.algorithm, `${path}.algorithm`),
      hex: string(h.value, `${path}.value`).toLowerCase(),
      of,
    });
  };
  const v2Hash = (v: unknown, path: string, of: DigestOf) => {
    const h = object(v, path);
    const name = string(h.algorithm, `${path}.algorithm`);
    out.digests.push({
      algorithm: V2_HASH.get(name) ?? name,
      hex: toHex(base64(h.digest, `${path}.digest`)),
      of,
    });
  };
  const v2Verifier = (v: unknown, path: string) => {
    const ver = object(v, path);
    if (isObject(ver.x509Certificate))
      out.signers.push({
        type: 'certificate',
        der: base64(ver.x509Certificate.rawBytes, `${path}.x509Certificate.rawBytes`),
      });
    else if (isObject(ver.publicKey))
      out.signers.push({
        type: 'publicKey',
        spki: base64(ver.publicKey.rawBytes, `${path}.publicKey.rawBytes`),
      });
    else throw invalid(path, 'names neither a certificate nor a public key');
  };
  switch (`${kind}/${apiVersion}`) {
    case 'hashedrekord/0.0.1':
      v1Hash(object(spec.data, `${p}.data`).hash, `${p}.data.hash`, 'data');
      pem(
        object(object(spec.signature, `${p}.signature`).publicKey, `${p}.signature.publicKey`)
          .content,
        `${p}.signature.publicKey.content`,
      );
      break;
    case 'dsse/0.0.1':
      v1Hash(spec.payloadHash, `${p}.payloadHash`, 'payload');
      v1Hash(spec.envelopeHash, `${p}.envelopeHash`, 'envelope');
      for (const [i, s] of array(spec.signatures, `${p}.signatures`).entries())
        pem(object(s, `${p}.signatures[${i}]`).verifier, `${p}.signatures[${i}].verifier`);
      break;
    case 'intoto/0.0.2': {
      const c = object(spec.content, `${p}.content`);
      v1Hash(c.payloadHash, `${p}.content.payloadHash`, 'payload');
      v1Hash(c.hash, `${p}.content.hash`, 'envelope');
      const env = object(c.envelope, `${p}.content.envelope`);
      const pt = optionalString(env.payloadType, `${p}.content.envelope.payloadType`);
      if (pt !== undefined) out.payloadType = pt;
      for (const [i, s] of array(env.signatures, `${p}.content.envelope.signatures`).entries())
        pem(
          object(s, `${p}.content.envelope.signatures[${i}]`).publicKey,
          `${p}.content.envelope.signatures[${i}].publicKey`,
        );
      break;
    }
    case 'hashedrekord/0.0.2': {
      const h = object(spec.hashedRekordV002, `${p}.hashedRekordV002`);
      v2Hash(h.data, `${p}.hashedRekordV002.data`, 'data');
      v2Verifier(
        object(h.signature, `${p}.hashedRekordV002.signature`).verifier,
        `${p}.hashedRekordV002.signature.verifier`,
      );
      break;
    }
    case 'dsse/0.0.2': {
      const d = object(spec.dsseV002, `${p}.dsseV002`);
      v2Hash(d.payloadHash, `${p}.dsseV002.payloadHash`, 'payload');
      for (const [i, s] of array(d.signatures, `${p}.dsseV002.signatures`).entries())
        v2Verifier(
          object(s, `${p}.dsseV002.signatures[${i}]`).verifier,
          `${p}.dsseV002.signatures[${i}].verifier`,
        );
      break;
    }
    default:
      throw invalid(`${field}.kind`, `${kind} ${apiVersion} is not an entry kind this log writes`);
  }
  return out;
}
