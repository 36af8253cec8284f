/**
 * A cheap "this entry cannot match" test on the raw bytes of a Rekor v2 entry, so that a scan
 * parses (JSON, base64, DER) only the entries that may name a watched identity.
 *
 * It applies when every rule the config has is an exact SAN (certIdentities with
 * certSubjectExact, or a regexp that is a plain string such as `dev@example\.com`; subjects
 * likewise): a SAN is read from the certificate's DER as its literal
 * bytes (latin1 for IA5String names, UTF-8 for otherName; core/x509/identity-view.ts), and a
 * v2 entry carries the DER base64-encoded in a JSON string. So a SAN equal to a watched value
 * puts that value's bytes in the DER, and their base64 (at one of three alignments) in the
 * body, provided:
 *  - the body has no backslash: no JSON escape, every string is its raw bytes;
 *  - the body has exactly one `"apiVersion"`, followed by `:"0.0.2"`, and exactly one `"kind"`,
 *    followed by `:"hashedrekord"` or `:"dsse"`: JSON.parse cannot see another kind or version
 *    (a v1 body, and intoto 0.0.2, nest the certificate in base64 PEM, which this does not read);
 *  - the certificate string is strict base64 (core/rekor/entry-facts.ts refuses others: such an entry is
 *    unreadable, never a match).
 * An entry that fails these conditions is parsed in full, as before; the test only ever skips
 * entries that cannot name a watched value. So an entry that cannot be read is an alert
 * (monitor.ts) when it may name one: one that cannot is none of this config's business.
 */
import type { MonitorConfig, ValueMatcher } from './config.ts';

const BACKSLASH = 0x5c;
const API_VERSION = Buffer.from('"apiVersion"');
const V2 = Buffer.from(':"0.0.2"');
const KIND = Buffer.from('"kind"');
const V2_KINDS = [Buffer.from(':"hashedrekord"'), Buffer.from(':"dsse"')];

/** Whether `key` occurs exactly once in `b`, followed by one of `values`. */
function onceFollowedBy(b: Buffer, key: Buffer, values: Buffer[]): boolean {
  const at = b.indexOf(key);
  if (at === -1 || b.indexOf(key, at + 1) !== -1) return false;
  const from = at + key.length;
  return values.some((v) => b.compare(v, 0, v.length, from, from + v.length) === 0);
}

/**
 * The base64 characters that encode `bytes` wherever they sit in a longer base64 string: for
 * each of the three byte alignments, the characters whose six bits all come from `bytes`.
 */
function base64Needles(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let o = 0; o < 3; o++) {
    const enc = Buffer.concat([Buffer.alloc(o), bytes]).toString('base64');
    const first = Math.ceil((8 * o) / 6);
    const end = Math.floor((8 * (o + bytes.length)) / 6);
    if (end > first) out.push(enc.slice(first, end));
  }
  return out;
}

/** What `\\` may escape under flag u, and (but `/`) what is not a plain character. */
const SYNTAX = new Set('^$\\.*+?()[]{}|/');

/**
 * The one string a matcher accepts, if it accepts only one: an exact value, or an anchored
 * regexp (config.ts: `^(?:...)$`, flag u) made of plain characters and escaped syntax
 * characters only (under flag u no other escape is an identity escape).
 */
export function literalOf(m: ValueMatcher): string | undefined {
  if ('exact' in m) return m.exact;
  if (m.regexp.flags !== 'u') return undefined;
  const src = m.pattern;
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const next = src[++i];
      if (next === undefined || !SYNTAX.has(next)) return undefined;
      out += next;
    } else if (SYNTAX.has(c) && c !== '/') return undefined;
    else out += c;
  }
  return out === '' ? undefined : out;
}

export class RawPrefilter {
  readonly #needles: Buffer[];

  private constructor(needles: Buffer[]) {
    this.#needles = needles;
  }

  /** A prefilter for the config, or undefined when some rule needs the parsed entry. */
  static for(c: MonitorConfig): RawPrefilter | undefined {
    if (c.fingerprints.length > 0 || c.oidMatchers.length > 0) return undefined;
    const values: string[] = [];
    for (const m of [...c.certIdentities.map((r) => r.subject), ...c.subjects]) {
      const v = literalOf(m);
      if (v === undefined) return undefined;
      values.push(v);
    }
    if (values.length === 0) return undefined;
    const needles = new Set<string>();
    for (const v of values) {
      const forms = [Buffer.from(v, 'utf8')];
      // eslint-disable-next-line no-control-regex
      if (/^[\u0000-\u00ff]*$/.test(v)) forms.push(Buffer.from(v, 'latin1'));
      for (const bytes of forms)
        for (const n of base64Needles(bytes)) {
          needles.add(n);
          // protobuf JSON also reads the URL-safe alphabet (match.ts accepts either, unmixed)
          needles.add(n.replaceAll('+', '-').replaceAll('/', '_'));
        }
    }
    return new RawPrefilter([...needles].map((n) => Buffer.from(n, 'latin1')));
  }

  /** False only when the entry surely matches no rule. */
  mayMatch(leaf: Uint8Array): boolean {
    const b = Buffer.from(leaf.buffer, leaf.byteOffset, leaf.byteLength);
    if (b.indexOf(BACKSLASH) !== -1) return true;
    if (!onceFollowedBy(b, API_VERSION, [V2]) || !onceFollowedBy(b, KIND, V2_KINDS)) return true;
    for (const n of this.#needles) if (b.indexOf(n) !== -1) return true;
    return false;
  }
}
