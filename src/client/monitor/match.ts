/**
 * Matching log entries against the identities a monitor watches for. An entry is read only as
 * far as matching needs: the JSON body of a Rekor entry (hashedrekord, dsse, intoto, rekord; v1 and
 * v2 shapes) down to its verifiers and artifact digest, the certificate down to its SANs,
 * extensions and key (core/x509/identity-view.ts), a CT leaf down to its (pre)certificate.
 * Fingerprints are hashed only when the config has some.
 */
import type { EntryFacts } from '../../core/rekor/entry-facts.ts';
import { readTlv, content } from '../../core/encoding/der.ts';
import { parseMerkleTreeLeaf } from '../../core/ct/sct.ts';
import { identityView, type IdentityView } from '../../core/x509/identity-view.ts';
import {
  decodeFulcioExtension,
  FULCIO_OID_PREFIX,
  fulcioOid,
} from '../../core/x509/fulcio-extensions.ts';
import { parseCertificate } from '../../core/x509/certificate.ts';
import { checkIssuedByTrustedCa, type TrustedAuthority } from '../../core/x509/chain.ts';
import type { MonitorConfig, ValueMatcher } from './config.ts';
import { looseRegExp } from '../verify/policy.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

export { rekorEntryFacts, type EntryFacts } from '../../core/rekor/entry-facts.ts';

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
  /**
   * Why the signing certificate is not one a CA of the trusted root issued: anyone can log a
   * certificate they made naming you, which no verifier accepts (then it is no alert).
   */
  untrusted?: string;
}

const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

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
  readonly #authorities: readonly TrustedAuthority[] | undefined;

  /**
   * `authorities`: the certificate authorities a signing certificate must chain to for its
   * entry to match (the trusted root's). Not given: every certificate is read as it stands.
   * CT leaves are not checked: a CT log takes only chains to its accepted roots (RFC 6962 §4.1).
   */
  constructor(
    config: MonitorConfig,
    opts: {
      authorities?: readonly TrustedAuthority[];
      /**
       * Told when a rule's regexp misses a certificate identity only because Signet matches the
       * whole value (rekor-monitor's Go regexps match any part): a config brought from it would
       * otherwise never alert, in silence.
       */
      onPartial?: (rule: string, pattern: string, value: string) => void;
    } = {},
  ) {
    this.#c = config;
    this.#wantsFingerprints = config.fingerprints.length > 0;
    this.#authorities = opts.authorities;
    this.#onPartial = opts.onPartial;
  }

  readonly #onPartial: ((rule: string, pattern: string, value: string) => void) | undefined;
  /** Each rule's regexp without anchors (made once), until onPartial was told of the rule. */
  readonly #loose = new Map<string, RegExp | undefined>();

  /** test(), telling onPartial (once a rule) of a regexp that matches only part of `value`. */
  #test(m: ValueMatcher, value: string, rule: string): boolean {
    if (test(m, value)) return true;
    if (this.#onPartial && 'regexp' in m) {
      if (!this.#loose.has(rule)) this.#loose.set(rule, looseRegExp(m.regexp));
      const loose = this.#loose.get(rule);
      if (loose?.test(value)) {
        this.#loose.set(rule, undefined); // told once
        this.#onPartial(rule, m.pattern, value);
      }
    }
    return false;
  }

  /** The entry's matches, or undefined when nothing matched. Throws if it is unreadable. */
  match(facts: EntryFacts): EntryMatch | undefined {
    let found: EntryMatch | undefined;
    for (const signer of facts.signers) {
      const m = this.#matchSigner(facts, signer);
      if (!m) continue;
      // A signer a trusted CA issued outweighs the ones none did (DSSE: several signatures).
      if (!found || (found.untrusted !== undefined && m.untrusted === undefined)) found = m;
      else if ((found.untrusted === undefined) === (m.untrusted === undefined))
        found.matches.push(...m.matches);
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
          if (!this.#test(rule.subject, san.value, `certIdentities[${i}].subject`)) continue;
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
          if (this.#test(m, san.value, `subjects[${i}]`))
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
    const m: EntryMatch = {
      kind: facts.kind,
      identity: view?.sans[0]?.value,
      issuer,
      digest: facts.digest(),
      fingerprint,
      matches,
    };
    // Only entries that matched are checked: a chain costs more than the whole match.
    if (this.#authorities && 'certificate' in signer && signer.form === 'certificate') {
      const ca = checkIssuedByTrustedCa(parseCertificate(signer.certificate), this.#authorities);
      if (!ca.trusted) m.untrusted = ca.reason;
    }
    return m;
  }
}
