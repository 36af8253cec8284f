/**
 * Matching log entries against the identities a monitor watches for. An entry is read only as
 * far as matching needs: the JSON body of a Rekor entry (hashedrekord, dsse, intoto; v1 and
 * v2 shapes) down to its verifiers and artifact digest, the certificate down to its SANs,
 * extensions and key (core/x509/identity-view.ts), a CT leaf down to its (pre)certificate.
 * Fingerprints are hashed only when the config has some.
 */
import { createHash } from 'node:crypto';
import { invalid } from '../../core/errors.ts';
import { decodePemAll } from '../../core/encoding/pem.ts';
import { readTlv, content } from '../../core/encoding/der.ts';
import { parseMerkleTreeLeaf } from '../../core/ct/sct.ts';
import { identityView, type IdentityView } from '../../core/x509/identity-view.ts';
import {
  decodeFulcioExtension,
  FULCIO_OID_PREFIX,
  fulcioOid,
} from '../../core/x509/fulcio-extensions.ts';
import type { MonitorConfig, ValueMatcher } from './config.ts';

/** What one entry records: its kind, the keys/certificates that signed it, the artifact. */
export interface EntryFacts {
  kind: string;
  signers: Array<
    { certificate: Uint8Array; form: 'certificate' | 'tbs' } | { publicKey: Uint8Array }
  >;
  /** `sha256:<hex>` of the artifact (or DSSE payload), when the entry records one (read only for a match). */
  digest: () => string | undefined;
}

export interface RuleMatch {
  /** Which config rule, e.g. `certIdentities[0]`. */
  rule: string;
  field: 'subject' | 'issuer' | 'fingerprint' | 'extension';
  /** The rule's pattern or value as written. */
  pattern: string;
  /** The value in the entry that matched. */
  value: string;
}

export interface EntryMatch {
  kind: string;
  /** The signer's first identity (SAN), if a certificate signed. */
  identity: string | undefined;
  issuer: string | undefined;
  digest: string | undefined;
  /** SHA-256 of the signing certificate (DER) or key (SPKI DER). */
  fingerprint: string;
  matches: RuleMatch[];
}

const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
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
    // prefilter (prefilter.ts) finds a certificate's names only in strict base64.
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
      return {
        kind,
        signers: [
          pemSigner(at(spec, 'signature', 'publicKey', 'content'), 'spec.signature.publicKey'),
        ],
        digest: () =>
          hexDigest(at(spec, 'data', 'hash', 'algorithm'), at(spec, 'data', 'hash', 'value')),
      };
    case 'hashedrekord/0.0.2': {
      const h = at(spec, 'hashedRekordV002') ?? at(spec, 'hashedRekordV0_0_2');
      return {
        kind,
        signers: [v2Signer(at(h, 'signature', 'verifier'), 'signature.verifier')],
        digest: () => v2Digest(at(h, 'data', 'algorithm'), at(h, 'data', 'digest')),
      };
    }
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
      throw invalid(
        'entry',
        `kind ${kind} is not one the monitor reads (hashedrekord, dsse, intoto)`,
      );
  }
}

/** Facts of an RFC 6962 leaf (MerkleTreeLeaf): a precertificate TBS or a certificate. */
export function ctEntryFacts(leaf: Uint8Array): EntryFacts {
  const l = parseMerkleTreeLeaf(leaf, 'leaf');
  return l.entry.type === 'precert'
    ? {
        kind: 'ct/precert',
        signers: [{ certificate: l.entry.tbs, form: 'tbs' }],
        digest: () => undefined,
      }
    : {
        kind: 'ct/x509',
        signers: [{ certificate: l.entry.certificate, form: 'certificate' }],
        digest: () => undefined,
      };
}

const ISSUER_OIDS = [fulcioOid(8), fulcioOid(1)];

/** An extension's value as text: Fulcio's encodings, else a DER string, else its bytes. */
function extensionText(oid: string, v: Uint8Array): string | undefined {
  try {
    if (oid.startsWith(FULCIO_OID_PREFIX)) {
      const arc = Number(oid.slice(FULCIO_OID_PREFIX.length));
      if (Number.isInteger(arc)) return decodeFulcioExtension(arc, v, oid);
    }
    const t = readTlv(v, 0, oid);
    // UTF8String, PrintableString, IA5String
    if (t.end === v.length && (t.tag === 0x0c || t.tag === 0x13 || t.tag === 0x16))
      return Buffer.from(content(v, t)).toString('utf8');
  } catch {
    // not a string: compared as raw bytes below
  }
  return Buffer.from(v).toString('latin1');
}

const test = (m: ValueMatcher, value: string): boolean =>
  'exact' in m ? m.exact === value : m.regexp.test(value);

/** Matches entries against one monitor config. */
export class IdentityMatcher {
  readonly #c: MonitorConfig;
  readonly #wantsFingerprints: boolean;

  constructor(config: MonitorConfig) {
    this.#c = config;
    this.#wantsFingerprints = config.fingerprints.length > 0;
  }

  /** The entry's matches, or undefined when nothing matched. Throws if it is unreadable. */
  match(facts: EntryFacts): EntryMatch | undefined {
    let found: EntryMatch | undefined;
    for (const signer of facts.signers) {
      const m = this.#matchSigner(facts, signer);
      if (!m) continue;
      if (!found) found = m;
      else found.matches.push(...m.matches);
    }
    return found;
  }

  #matchSigner(facts: EntryFacts, signer: EntryFacts['signers'][number]): EntryMatch | undefined {
    const c = this.#c;
    const matches: RuleMatch[] = [];
    let view: IdentityView | undefined;
    let issuer: string | undefined;
    if ('certificate' in signer) {
      view = identityView(signer.certificate, signer.form);
      for (const oid of ISSUER_OIDS) {
        const v = view.extensions.get(oid);
        if (v) {
          issuer = extensionText(oid, v);
          break;
        }
      }
      c.certIdentities.forEach((rule, i) => {
        for (const san of view!.sans) {
          if (!test(rule.subject, san.value)) continue;
          const iss = rule.issuers.find((m) => issuer !== undefined && test(m, issuer));
          if (rule.issuers.length > 0 && !iss) continue;
          matches.push({
            rule: `certIdentities[${i}]`,
            field: 'subject',
            pattern: rule.subject.pattern,
            value: san.value,
          });
          if (iss)
            matches.push({
              rule: `certIdentities[${i}]`,
              field: 'issuer',
              pattern: iss.pattern,
              value: issuer!,
            });
        }
      });
      c.subjects.forEach((m, i) => {
        for (const san of view!.sans)
          if (test(m, san.value))
            matches.push({
              rule: `subjects[${i}]`,
              field: 'subject',
              pattern: m.pattern,
              value: san.value,
            });
      });
      c.oidMatchers.forEach((rule, i) => {
        const v = view!.extensions.get(rule.oid);
        if (!v) return;
        const text = extensionText(rule.oid, v);
        if (text !== undefined && rule.values.includes(text))
          matches.push({
            rule: `oidMatchers[${i}]`,
            field: 'extension',
            pattern: `${rule.name}=${text}`,
            value: text,
          });
      });
    }
    const spki = view ? view.spki : (signer as { publicKey: Uint8Array }).publicKey;
    let fingerprint: string | undefined;
    if (this.#wantsFingerprints) {
      const keyFp = sha256hex(spki);
      const certFp =
        'certificate' in signer && signer.form === 'certificate'
          ? sha256hex(signer.certificate)
          : undefined;
      c.fingerprints.forEach((fp, i) => {
        if (fp === keyFp || fp === certFp)
          matches.push({
            rule: `fingerprints[${i}]`,
            field: 'fingerprint',
            pattern: fp,
            value: fp,
          });
      });
      fingerprint = certFp ?? keyFp;
    }
    if (matches.length === 0) return undefined;
    fingerprint ??=
      'certificate' in signer && signer.form === 'certificate'
        ? sha256hex(signer.certificate)
        : sha256hex(spki);
    return {
      kind: facts.kind,
      identity: view?.sans[0]?.value,
      issuer,
      digest: facts.digest(),
      fingerprint,
      matches,
    };
  }
}
