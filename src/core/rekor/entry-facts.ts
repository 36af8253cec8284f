/**
 * What a stored Rekor entry body (canonical JSON; hashedrekord, dsse, intoto, rekord with an
 * X.509 key; v1 and v2 shapes)
 * records about who signed it, read only as far as that needs: its kind, the keys or
 * certificates of its signers, and (on demand) the artifact digest. The monitor matches
 * identities with it; the Rekor service re-derives identity search keys with it.
 */
import { invalid, SignetError } from '../errors.ts';
import { decodePemAll } from '../encoding/pem.ts';

/** What one entry records: its kind, the keys/certificates that signed it, the artifact. */
export interface EntryFacts {
  kind: string;
  signers: Array<
    { certificate: Uint8Array; form: 'certificate' | 'tbs' } | { publicKey: Uint8Array }
  >;
  /** `sha256:<hex>` of the artifact (or DSSE payload), when the entry records one (read only for a match). */
  digest: () => string | undefined;
}

const V2_ALG: Record<string, string> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};

type J = Record<string, unknown>;
const obj = (v: unknown): J | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as J) : undefined;
const at = (v: unknown, ...path: string[]): unknown => {
  let cur = v;
  for (const p of path) cur = obj(cur)?.[p];
  return cur;
};
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function b64(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string') throw invalid(field, 'is missing');
  return new Uint8Array(Buffer.from(v, 'base64'));
}

/** A v1 verifier: base64 of a PEM key or certificate (chain); the first block signs. */
function pemSigner(v: unknown, field: string): EntryFacts['signers'][number] {
  const pem = Buffer.from(b64(v, field)).toString('latin1');
  const first = decodePemAll(pem, field)[0]!;
  if (first.label === 'CERTIFICATE') return { certificate: first.der, form: 'certificate' };
  if (first.label === 'PUBLIC KEY') return { publicKey: first.der };
  throw invalid(field, `PEM ${first.label} is not a key or certificate`);
}

/** Base64 in one alphabet (standard or URL-safe), padding only at the end. */
const STRICT_B64 = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/;

/** A v2 `Verifier`: {x509Certificate: {rawBytes}} | {publicKey: {rawBytes}}. */
function v2Signer(v: unknown, field: string): EntryFacts['signers'][number] {
  const cert = at(v, 'x509Certificate', 'rawBytes');
  if (cert !== undefined) {
    // Strict, unlike Buffer's decoder (which skips what is not base64): the raw-bytes
    // prefilter (client/monitor/prefilter.ts) finds a certificate's names only in strict base64.
    if (typeof cert === 'string' && !STRICT_B64.test(cert))
      throw invalid(`${field}.x509Certificate.rawBytes`, 'is not base64');
    return { certificate: b64(cert, field), form: 'certificate' };
  }
  return { publicKey: b64(at(v, 'publicKey', 'rawBytes'), field) };
}

const hexDigest = (alg: unknown, value: unknown): string | undefined =>
  typeof alg === 'string' && typeof value === 'string'
    ? `${alg}:${value.toLowerCase()}`
    : undefined;
const v2Digest = (alg: unknown, value: unknown): string | undefined => {
  const a = V2_ALG[s(alg) ?? ''];
  return a && typeof value === 'string'
    ? `${a}:${Buffer.from(value, 'base64').toString('hex')}`
    : undefined;
};

/** hashedrekord 0.0.1 and rekord 0.0.1 alike: the PEM signer and the artifact's hash. */
function signatureEntryFacts(kind: string, spec: unknown): EntryFacts {
  return {
    kind,
    signers: [pemSigner(at(spec, 'signature', 'publicKey', 'content'), 'spec.signature.publicKey')],
    digest: () =>
      hexDigest(at(spec, 'data', 'hash', 'algorithm'), at(spec, 'data', 'hash', 'value')),
  };
}

/**
 * A well-formed entry of a kind (or key format) these facts are not read from: `unsupported`,
 * where a body that does not have its kind's shape is `invalid-input` (a monitor tells the two
 * apart: the second is an anomaly in the log, the first only a limit of Signet).
 */
function notRead(field: string, message: string): SignetError {
  return new SignetError('unsupported', 'UNSUPPORTED_KIND', message, { field });
}

/** Facts of a Rekor entry body (canonical JSON). Throws for bodies it cannot read. */
export function rekorEntryFacts(leaf: Uint8Array): EntryFacts {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(leaf.buffer, leaf.byteOffset, leaf.byteLength).toString('utf8'));
  } catch {
    throw invalid('entry', 'is not JSON');
  }
  const kind = `${s(at(body, 'kind')) ?? '?'}/${s(at(body, 'apiVersion')) ?? '?'}`;
  const spec = at(body, 'spec');
  switch (kind) {
    case 'hashedrekord/0.0.1':
      return signatureEntryFacts(kind, spec);
    case 'hashedrekord/0.0.2': {
      const h = at(spec, 'hashedRekordV002') ?? at(spec, 'hashedRekordV0_0_2');
      return {
        kind,
        signers: [v2Signer(at(h, 'signature', 'verifier'), 'signature.verifier')],
        digest: () => v2Digest(at(h, 'data', 'algorithm'), at(h, 'data', 'digest')),
      };
    }
    // Rekor v1 kinds only older clients write (cosign's sign-blob before hashedrekord, its
    // attest before intoto 0.0.2): read so that a public log's history is matched too.
    case 'rekord/0.0.1': {
      const format = at(spec, 'signature', 'format');
      if (format !== 'x509')
        throw notRead('spec.signature.format', `${String(format)} keys are not read (only x509)`);
      return signatureEntryFacts(kind, spec);
    }
    case 'intoto/0.0.1':
      return {
        kind,
        signers: [pemSigner(at(spec, 'publicKey'), 'spec.publicKey')],
        digest: () =>
          hexDigest(
            at(spec, 'content', 'payloadHash', 'algorithm'),
            at(spec, 'content', 'payloadHash', 'value'),
          ),
      };
    case 'dsse/0.0.1': {
      const sigs = at(spec, 'signatures');
      if (!Array.isArray(sigs)) throw invalid('spec.signatures', 'is missing');
      return {
        kind,
        signers: sigs.map((x, i) => pemSigner(at(x, 'verifier'), `spec.signatures[${i}].verifier`)),
        digest: () =>
          hexDigest(at(spec, 'payloadHash', 'algorithm'), at(spec, 'payloadHash', 'value')),
      };
    }
    case 'dsse/0.0.2': {
      const d = at(spec, 'dsseV002') ?? at(spec, 'dsseV0_0_2');
      const sigs = at(d, 'signatures');
      if (!Array.isArray(sigs)) throw invalid('signatures', 'is missing');
      return {
        kind,
        signers: sigs.map((x, i) => v2Signer(at(x, 'verifier'), `signatures[${i}].verifier`)),
        digest: () => v2Digest(at(d, 'payloadHash', 'algorithm'), at(d, 'payloadHash', 'digest')),
      };
    }
    case 'intoto/0.0.2': {
      const sigs = at(spec, 'content', 'envelope', 'signatures');
      if (!Array.isArray(sigs)) throw invalid('spec.content.envelope.signatures', 'is missing');
      return {
        kind,
        signers: sigs.map((x, i) => pemSigner(at(x, 'publicKey'), `signatures[${i}].publicKey`)),
        digest: () =>
          hexDigest(
            at(spec, 'content', 'payloadHash', 'algorithm'),
            at(spec, 'content', 'payloadHash', 'value'),
          ),
      };
    }
    default:
      throw notRead(
        'entry',
        `kind ${kind} is not one the monitor reads (hashedrekord, dsse, intoto, rekord x509)`,
      );
  }
}
