/**
 * `signet monitor --config FILE`: the identities to watch for, in rekor-monitor's shape
 * (mon:pkg/notifications IdentityMonitorConfiguration), YAML or JSON:
 *
 *   startIndex: 0            # optional: where to start the first time (default: the log's size; at most that)
 *   endIndex: 1000           # optional: the last index read (inside the log), then the run ends
 *   monitoredValues:
 *     certIdentities:        # certificate SAN, and optionally the OIDC issuer
 *       - certSubject: 'https://github\.com/org/repo/\.github/workflows/.*'   # regexp
 *         issuers: ['https://token\.actions\.githubusercontent\.com']         # regexps
 *       - certSubjectExact: dev@example.com                                  # Signet: exact
 *         issuersExact: [https://accounts.example.com]
 *     subjects: ['dev@example\.com']   # regexps matched against any entry's identities
 *     fingerprints: [<hex SHA-256 of a key's SPKI DER or a certificate's DER>]
 *     oidMatchers:
 *       fulcioExtensions: { build-config-uri: [https://...] }
 *       oidExtensions: [{ objectIdentifier: [1,3,6,1,4,1,57264,1,1], extensionValues: [...] }]
 *       customExtensions: [{ objectIdentifier: 1.3.6.1.4.1.57264.1.9, extensionValues: [...] }]
 *   outputIdentities: identities.json   # optional: each found identity appended, one a line,
 *   outputIdentitiesFormat: json        #   in rekor-monitor's shape (text, or json; default
 *                                       #   from the extension; text ends with the log's URL)
 *
 * Unlike rekor-monitor, a regexp must match the whole value (it is anchored), so `dev@example\.com`
 * does not also match `evildev@example.com.attacker`; extension values match exactly. Unknown
 * fields, bad regexps and bad OIDs are errors that name the field.
 *
 * Scalars are read as the text written, as rekor-monitor's YAML library reads them into its
 * string fields: `source-repository-identifier: [01234]` is the value `01234` (a GitHub
 * repository ID), not the number 1234, and `objectIdentifier: 2.5` is an OID, not a float.
 */
import { invalid } from '../../core/errors.ts';
import { FULCIO_EXTENSION_NAMES, fulcioOid } from '../../core/x509/fulcio-extensions.ts';
import { anchoredRegExp, type Matcher } from '../verify/policy.ts';
import { parseYamlDocument } from '../../core/yaml.ts';

/** A matcher with the text it came from (what an alert reports as the rule). */
export type ValueMatcher = Matcher & { pattern: string };

export interface CertIdentityRule {
  subject: ValueMatcher;
  /** Empty: any issuer. */
  issuers: ValueMatcher[];
}

export interface OidRule {
  /** Dotted OID. */
  oid: string;
  /** How the config named it (e.g. `build-config-uri`). */
  name: string;
  values: string[];
}

export interface MonitorConfig {
  startIndex: number | undefined;
  endIndex: number | undefined;
  certIdentities: CertIdentityRule[];
  subjects: ValueMatcher[];
  /** Lower-case hex SHA-256. */
  fingerprints: string[];
  oidMatchers: OidRule[];
  /** rekor-monitor's `outputIdentities`: a file each found identity is appended to. */
  outputIdentities: { file: string; format: 'text' | 'json' } | undefined;
}

export function emptyConfig(): MonitorConfig {
  return {
    startIndex: undefined,
    endIndex: undefined,
    certIdentities: [],
    subjects: [],
    fingerprints: [],
    oidMatchers: [],
    outputIdentities: undefined,
  };
}

/** Whether the config watches for anything (else the monitor only checks consistency). */
export function watchesIdentities(c: MonitorConfig): boolean {
  return (
    c.certIdentities.length + c.subjects.length + c.fingerprints.length + c.oidMatchers.length > 0
  );
}

/** rekor-monitor options that have no meaning here: refused by name rather than ignored. */
const REKOR_MONITOR_ONLY = new Set([
  'logInfoFile',
  'identityMetadataFile',
  'githubIssue',
  'emailNotificationSMTP',
  'emailNotificationMailgun',
  'emailNotificationSendGrid',
  'caRootsFile',
  'caIntermediatesFile',
  'ctShards',
]);

type Obj = Record<string, unknown>;

function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'must be a mapping');
  return v as Obj;
}

function onlyKeys(o: Obj, allowed: string[], field: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw invalid(
        field ? `${field}.${k}` : k,
        k === 'caRootsFile' || k === 'caIntermediatesFile'
          ? "is a rekor-monitor option signet monitor takes from the trusted root: a certificate is an alert when it chains to the trusted root's CAs (--trusted-root or --server)"
          : REKOR_MONITOR_ONLY.has(k)
            ? 'is a rekor-monitor option signet monitor does not have (alerts go to stdout and --webhook; state to --state)'
            : `is not a known field (known: ${allowed.join(', ')})`,
      );
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(field, 'must be a list');
  return v;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(field, 'must be a non-empty string');
  return v;
}

const WHOLE = /^(0|[1-9][0-9]*)$/;

function index(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !WHOLE.test(v) || !Number.isSafeInteger(Number(v)))
    throw invalid(field, 'must be a non-negative integer');
  return Number(v);
}

const regexpMatcher = (v: unknown, field: string): ValueMatcher => {
  const pattern = str(v, field);
  return { regexp: anchoredRegExp(pattern, field), pattern };
};
const exactMatcher = (v: unknown, field: string): ValueMatcher => {
  const pattern = str(v, field);
  return { exact: pattern, pattern };
};

/** rekor-monitor's kebab-case Fulcio extension names (`build-config-uri`), and `issuer`. */
function fulcioNameToOids(name: string): string[] | undefined {
  if (name === 'issuer') return [fulcioOid(8), fulcioOid(1)];
  for (const [arc, camel] of Object.entries(FULCIO_EXTENSION_NAMES)) {
    const kebab = camel.replace(/[A-Z0-9]+/g, (m) => `-${m.toLowerCase()}`);
    if (kebab === name || camel === name) return [fulcioOid(Number(arc))];
  }
  return undefined;
}

function dottedOid(v: unknown, field: string): string {
  const text = Array.isArray(v)
    ? v
        .map((x, i) => {
          if (typeof x !== 'string' || !WHOLE.test(x))
            throw invalid(`${field}[${i}]`, 'must be a non-negative integer');
          return x;
        })
        .join('.')
    : typeof v === 'string'
      ? v
      : '';
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(text))
    throw invalid(field, 'must be an object identifier (1.2.3 or [1, 2, 3])');
  return text;
}

function values(v: unknown, field: string): string[] {
  const out = list(v, field).map((x, i) => str(x, `${field}[${i}]`));
  if (out.length === 0) throw invalid(field, 'needs at least one value');
  return out;
}

/** YAML's core schema without numbers and booleans: those scalars stay the text written. */
const SCALARS_AS_TEXT = new Set([
  'tag:yaml.org,2002:int',
  'tag:yaml.org,2002:float',
  'tag:yaml.org,2002:bool',
]);

/** Parse the config text (YAML or JSON); `source` names it in errors. */
export function parseMonitorConfig(text: string, source = 'config'): MonitorConfig {
  const doc = parseYamlDocument(text, source, {
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || !SCALARS_AS_TEXT.has(t.tag)),
  });
  if (doc === null || doc === undefined) return emptyConfig();
  const root = object(doc, source);
  onlyKeys(
    root,
    ['startIndex', 'endIndex', 'monitoredValues', 'outputIdentities', 'outputIdentitiesFormat'],
    '',
  );
  const out = emptyConfig();
  if (root.outputIdentities !== undefined && root.outputIdentities !== null) {
    const file = str(root.outputIdentities, 'outputIdentities');
    // rekor-monitor's default: from the file's extension, else text.
    const format = root.outputIdentitiesFormat ?? (file.endsWith('.json') ? 'json' : 'text');
    if (format !== 'text' && format !== 'json')
      throw invalid('outputIdentitiesFormat', 'must be text or json');
    out.outputIdentities = { file, format };
  } else if (root.outputIdentitiesFormat !== undefined)
    throw invalid('outputIdentitiesFormat', 'needs outputIdentities (the file to write)');
  out.startIndex = index(root.startIndex, 'startIndex');
  out.endIndex = index(root.endIndex, 'endIndex');
  if (out.startIndex !== undefined && out.endIndex !== undefined && out.endIndex < out.startIndex)
    throw invalid('endIndex', 'is before startIndex');
  if (root.monitoredValues === undefined || root.monitoredValues === null) return out;
  const mv = object(root.monitoredValues, 'monitoredValues');
  onlyKeys(mv, ['certIdentities', 'subjects', 'fingerprints', 'oidMatchers'], 'monitoredValues');
  list(mv.certIdentities, 'monitoredValues.certIdentities').forEach((c, i) => {
    const f = `monitoredValues.certIdentities[${i}]`;
    const o = object(c, f);
    onlyKeys(o, ['certSubject', 'certSubjectExact', 'issuers', 'issuersExact'], f);
    if ((o.certSubject === undefined) === (o.certSubjectExact === undefined))
      throw invalid(f, 'needs exactly one of certSubject (a regexp) or certSubjectExact');
    const subject =
      o.certSubject !== undefined
        ? regexpMatcher(o.certSubject, `${f}.certSubject`)
        : exactMatcher(o.certSubjectExact, `${f}.certSubjectExact`);
    const issuers = [
      ...list(o.issuers, `${f}.issuers`).map((x, k) => regexpMatcher(x, `${f}.issuers[${k}]`)),
      ...list(o.issuersExact, `${f}.issuersExact`).map((x, k) =>
        exactMatcher(x, `${f}.issuersExact[${k}]`),
      ),
    ];
    out.certIdentities.push({ subject, issuers });
  });
  out.subjects = list(mv.subjects, 'monitoredValues.subjects').map((x, i) =>
    regexpMatcher(x, `monitoredValues.subjects[${i}]`),
  );
  out.fingerprints = list(mv.fingerprints, 'monitoredValues.fingerprints').map((x, i) => {
    const f = `monitoredValues.fingerprints[${i}]`;
    const s = str(x, f).replace(/^sha256:/i, '');
    if (!/^[0-9a-fA-F]{64}$/.test(s))
      throw invalid(
        f,
        'must be a hex SHA-256 fingerprint of a key (SPKI DER) or certificate (DER)',
      );
    return s.toLowerCase();
  });
  if (mv.oidMatchers !== undefined && mv.oidMatchers !== null) {
    const om = object(mv.oidMatchers, 'monitoredValues.oidMatchers');
    const base = 'monitoredValues.oidMatchers';
    onlyKeys(om, ['fulcioExtensions', 'oidExtensions', 'customExtensions'], base);
    if (om.fulcioExtensions !== undefined && om.fulcioExtensions !== null)
      for (const [name, vs] of Object.entries(
        object(om.fulcioExtensions, `${base}.fulcioExtensions`),
      )) {
        const f = `${base}.fulcioExtensions.${name}`;
        const oids = fulcioNameToOids(name);
        if (!oids) throw invalid(f, 'is not a Fulcio extension name (e.g. build-config-uri)');
        const vals = values(vs, f);
        for (const oid of oids) out.oidMatchers.push({ oid, name, values: vals });
      }
    for (const key of ['oidExtensions', 'customExtensions'] as const)
      list(om[key], `${base}.${key}`).forEach((e, i) => {
        const f = `${base}.${key}[${i}]`;
        const o = object(e, f);
        onlyKeys(o, ['objectIdentifier', 'extensionValues'], f);
        const oid = dottedOid(o.objectIdentifier, `${f}.objectIdentifier`);
        out.oidMatchers.push({
          oid,
          name: oid,
          values: values(o.extensionValues, `${f}.extensionValues`),
        });
      });
  }
  return out;
}
