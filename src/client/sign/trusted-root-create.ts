import {
  parseTrustedRoot,
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  trustedRootToJSON,
} from '../../bundle/trusted-root.ts';
import type { JsonObject } from '../../bundle/json.ts';
import { keyDetailsOf } from '../../core/crypto/keys.ts';
import { invalid } from '../../core/errors.ts';
import { decodePem, decodePemAll } from '../../core/encoding/pem.ts';
import { noteLogId } from '../../core/note/keys.ts';
import type { X509Certificate as NodeX509 } from 'node:crypto';
const { createHash, createPublicKey, X509Certificate } = process.getBuiltinModule('node:crypto');

/**
 * `trusted-root create` (cosign v3's command): a trusted_root.json composed from the
 * verification material of any Sigstore deployment, given as service specs
 * `key=value,key=value` (cosign's syntax):
 *   --fulcio url=URL,certificate-chain=PEM[,start-time=RFC3339][,end-time=..][,operator=..]
 *   --rekor  url=URL,public-key=PEM,start-time=RFC3339[,end-time=..][,origin=NAME][,operator=..]
 *   --ctfe   url=URL,public-key=PEM,start-time=RFC3339[,end-time=..][,operator=..]
 *   --tsa    url=URL,certificate-chain=PEM[,start-time=..][,end-time=..][,operator=..]
 * Rekor v1 logs are named by SHA-256 of their key; give `origin` for a Rekor v2 (tile) log,
 * whose checkpoints name the key by origin (C2SP signed-note key IDs).
 */
export interface TrustMaterialFiles {
  /** Reads a file named in a spec (the CLI reads from disk; tests may pass contents). */
  read: (file: string, field: string) => string;
}

type Kind = 'fulcio' | 'rekor' | 'ctfe' | 'tsa';

const KEYS: Record<Kind, { required: string[]; optional: string[] }> = {
  fulcio: {
    required: ['url', 'certificate-chain'],
    optional: ['start-time', 'end-time', 'operator'],
  },
  tsa: { required: ['url', 'certificate-chain'], optional: ['start-time', 'end-time', 'operator'] },
  rekor: {
    required: ['url', 'public-key', 'start-time'],
    optional: ['end-time', 'origin', 'operator'],
  },
  // origin: a static CT (tile) log, named by its checkpoint key ID as Rekor v2 is (cosign).
  ctfe: {
    required: ['url', 'public-key', 'start-time'],
    optional: ['end-time', 'origin', 'operator'],
  },
};

export function parseServiceSpec(kind: Kind, spec: string): Record<string, string> {
  const field = `--${kind}`;
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid(field, `"${part}" is not key=value`);
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (![...KEYS[kind].required, ...KEYS[kind].optional].includes(k))
      throw invalid(
        field,
        `unknown key "${k}" (keys: ${[...KEYS[kind].required, ...KEYS[kind].optional].join(', ')})`,
      );
    if (Object.hasOwn(out, k)) throw invalid(field, `key "${k}" is given twice`);
    out[k] = v;
  }
  for (const k of KEYS[kind].required) if (!out[k]) throw invalid(field, `"${k}" is required`);
  const u = out.url!;
  try {
    new URL(u);
  } catch {
    throw invalid(`${field} url`, `"${u}" is not a URL`);
  }
  for (const t of ['start-time', 'end-time'])
    if (out[t] !== undefined && Number.isNaN(Date.parse(out[t]!)))
      throw invalid(`${field} ${t}`, `"${out[t]}" is not an RFC 3339 time`);
  return out;
}

/** One certificate authority or TSA: a spec's keys, or cosign's deprecated flags. */
export interface ChainInput {
  url: string;
  chainFile: string;
  start?: string;
  end?: string;
  operator?: string;
  /** The flag it came from, for messages. */
  field: string;
  /** TSAs (cosign parseTSASpec / parseTAPEMFile): the chain starts with the leaf, not a CA. */
  leafFirst?: boolean;
  /** The deprecated TSA flag also wants the root after the leaf. */
  minCerts?: number;
  /** Without start-time: the leaf's notBefore (TSA spec) or the root's (the others), as cosign. */
  startFrom?: 'leaf' | 'root';
  /**
   * The file is a set of CA certificates, roots and intermediates in any order (cosign's
   * SIGSTORE_ROOT_FILE, gitsign's fulcioRoot and timestampCertChain): a certificate authority
   * for each path in it from a certificate up to a root (chainsToRoots), not one chain in file
   * order.
   */
  pool?: boolean;
}

/** One transparency log (Rekor or CT). */
export interface LogInput {
  url: string;
  keyFile: string;
  start: string;
  end?: string;
  origin?: string;
  operator?: string;
  field: string;
}

export interface TrustedRootInputs {
  fulcio: ChainInput[];
  tsa: ChainInput[];
  rekor: LogInput[];
  ctfe: LogInput[];
  /** `--with-default-services`: a trusted root to start from (its parts appended first). */
  base?: { json: unknown; keep: Record<'fulcio' | 'rekor' | 'ctfe' | 'tsa', boolean> };
  /**
   * `--add-trusted-root`: whole trusted roots of other deployments, every service of each
   * added, so one file trusts them all (public-good and a private stack: cosign#1224).
   */
  add?: Array<{ json: unknown; file: string }>;
}

const chainSpec =
  (kind: 'fulcio' | 'tsa') =>
  (spec: string): ChainInput => {
    const s = parseServiceSpec(kind, spec);
    const out: ChainInput = {
      url: s.url!,
      chainFile: s['certificate-chain']!,
      field: `--${kind} certificate-chain`,
      ...(kind === 'tsa' ? { leafFirst: true, startFrom: 'leaf' as const } : {}),
    };
    if (s['start-time']) out.start = s['start-time'];
    if (s['end-time']) out.end = s['end-time'];
    if (s.operator) out.operator = s.operator;
    return out;
  };

const logSpec =
  (kind: 'rekor' | 'ctfe') =>
  (spec: string): LogInput => {
    const s = parseServiceSpec(kind, spec);
    const out: LogInput = {
      url: s.url!,
      keyFile: s['public-key']!,
      start: s['start-time']!,
      field: `--${kind} public-key`,
    };
    if (s['end-time']) out.end = s['end-time'];
    if (s.origin) out.origin = s.origin;
    if (s.operator) out.operator = s.operator;
    return out;
  };

/** From cosign's spec flags (`--fulcio url=...,certificate-chain=...`). */
export function specInputs(specs: {
  fulcio: string[];
  rekor: string[];
  ctfe: string[];
  tsa: string[];
}): TrustedRootInputs {
  return {
    fulcio: specs.fulcio.map(chainSpec('fulcio')),
    tsa: specs.tsa.map(chainSpec('tsa')),
    rekor: specs.rekor.map(logSpec('rekor')),
    ctfe: specs.ctfe.map(logSpec('ctfe')),
  };
}

/**
 * A set of CA certificates as chains, one from each certificate up to a root of the set (a
 * self-signed certificate): each step to an issuer the certificate names and whose key verifies
 * it, as cosign and gitsign build paths through their pools. A certificate with no path to a
 * root of the set yields none.
 */
export function chainsToRoots(certs: readonly NodeX509[]): NodeX509[][] {
  const issuedBy = (c: NodeX509, by: NodeX509) => c.checkIssued(by) && c.verify(by.publicKey);
  const chains: NodeX509[][] = [];
  for (const start of certs) {
    const path = [start];
    let cur = start;
    while (!issuedBy(cur, cur)) {
      const next = certs.find((p) => !path.includes(p) && issuedBy(cur, p));
      if (!next) break;
      path.push(next);
      cur = next;
    }
    if (issuedBy(cur, cur)) chains.push(path);
  }
  return chains;
}

export function createTrustedRoot(
  specs: { fulcio: string[]; rekor: string[]; ctfe: string[]; tsa: string[] },
  files: TrustMaterialFiles,
): JsonObject {
  return composeTrustedRoot(specInputs(specs), files);
}

export function composeTrustedRoot(
  inputs: TrustedRootInputs,
  files: TrustMaterialFiles,
): JsonObject {
  const readCerts = (c: ChainInput) => {
    const field = c.field;
    const blocks = decodePemAll(files.read(c.chainFile, field), field);
    return blocks.map((b, i) => {
      if (b.label !== 'CERTIFICATE')
        throw invalid(field, `PEM block ${i + 1} is "${b.label}", not a CERTIFICATE`);
      try {
        return new X509Certificate(Buffer.from(b.der));
      } catch (e) {
        throw invalid(field, `certificate ${i + 1} does not parse: ${(e as Error).message}`, e);
      }
    });
  };
  const authorities = (c: ChainInput): JsonObject[] => {
    if (!c.pool) return [ca(c, readCerts(c))];
    const chains = chainsToRoots(readCerts(c));
    if (chains.length === 0)
      throw invalid(
        c.field,
        'holds no root certificate (self-signed) for its certificates to chain to',
      );
    return chains.map((chain) => ca(c, chain));
  };
  const ca = (c: ChainInput, certs: NodeX509[]) => {
    const field = c.field;
    if (c.leafFirst && certs[0]!.ca)
      throw invalid(field, "the first certificate must be the TSA's leaf, not a CA");
    if (certs.length < (c.minCerts ?? 1))
      throw invalid(field, 'the chain must hold the leaf and at least its root certificate');
    const first = certs[0]!;
    const subject = Object.fromEntries(
      first.subject
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const validFor: JsonObject = {
      start: new Date(
        c.start ?? (c.startFrom === 'leaf' ? first : certs[certs.length - 1]!).validFrom,
      ).toISOString(),
    };
    if (c.end) validFor.end = new Date(c.end).toISOString();
    const out: JsonObject = {
      subject: { organization: subject.O ?? '', commonName: subject.CN ?? '' },
      uri: c.url,
      certChain: { certificates: certs.map((x) => ({ rawBytes: x.raw.toString('base64') })) },
      validFor,
    };
    if (c.operator) out.operator = c.operator;
    return out;
  };
  const log = (l: LogInput) => {
    const field = l.field;
    let key;
    try {
      const block = decodePem(files.read(l.keyFile, field), field);
      if (block.label !== 'PUBLIC KEY') throw new Error(`found PEM "${block.label}"`);
      key = createPublicKey({ key: Buffer.from(block.der), format: 'der', type: 'spki' });
    } catch (e) {
      throw invalid(field, `is not a PEM public key: ${(e as Error).message}`, e);
    }
    const spki = key.export({ format: 'der', type: 'spki' });
    const validFor: JsonObject = { start: new Date(l.start).toISOString() };
    if (l.end) validFor.end = new Date(l.end).toISOString();
    const logId = l.origin
      ? Buffer.from(noteLogId(l.origin, key)).toString('base64')
      : createHash('sha256').update(spki).digest('base64');
    const out: JsonObject = {
      baseUrl: l.url,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: spki.toString('base64'),
        keyDetails: keyDetailsOf(key, field),
        validFor,
      },
      logId: { keyId: logId },
    };
    if (l.origin) out.checkpointKeyId = { keyId: logId };
    if (l.operator) out.operator = l.operator;
    return out;
  };
  // cosign appends the given services to the defaults; a log with the same ID replaces one.
  const base = inputs.base
    ? (trustedRootToJSON(parseTrustedRoot(inputs.base.json)) as Record<string, JsonObject[]>)
    : undefined;
  const from = (part: string, kind: 'fulcio' | 'rekor' | 'ctfe' | 'tsa'): JsonObject[] =>
    base && inputs.base!.keep[kind] ? (base[part] ?? []) : [];
  const added = (inputs.add ?? []).map((a) => {
    let parsed;
    try {
      parsed = parseTrustedRoot(a.json);
    } catch (e) {
      throw invalid(
        '--add-trusted-root',
        `${a.file} is not a trusted root: ${(e as Error).message}`,
        e,
      );
    }
    return { root: trustedRootToJSON(parsed) as Record<string, JsonObject[]>, file: a.file };
  });
  /** The logs the added roots hold, each once; a log two of them describe differently is refused. */
  const addedLogs = (part: string): JsonObject[] => {
    const out = new Map<string, { log: JsonObject; file: string }>();
    for (const { root, file } of added)
      for (const x of root[part] ?? []) {
        const id = JSON.stringify(x.logId);
        const had = out.get(id);
        if (had === undefined) out.set(id, { log: x, file });
        else if (JSON.stringify(had.log) !== JSON.stringify(x))
          throw invalid(
            '--add-trusted-root',
            `${file} describes the log ${hexLogId(x)} otherwise than ${had.file}: ${logDifference(had.log, x)}`,
          );
      }
    return [...out.values()].map((v) => v.log);
  };
  const logs = (part: string, kind: 'rekor' | 'ctfe', given: JsonObject[]) => {
    const id = (l: JsonObject) => JSON.stringify(l.logId);
    const ids = new Set(given.map(id));
    const extra = addedLogs(part).filter((l) => !ids.has(id(l)));
    const extraIds = new Set(extra.map(id));
    return [
      ...from(part, kind).filter((l) => !ids.has(id(l)) && !extraIds.has(id(l))),
      ...extra,
      ...given,
    ];
  };
  /** CAs or TSAs: the base's, the added roots', then the given ones; each once. */
  const chains = (part: string, kind: 'fulcio' | 'tsa', given: JsonObject[]) => {
    const seen = new Set<string>();
    const fromAdded = added.flatMap(({ root }) => root[part] ?? []);
    return [...from(part, kind), ...fromAdded, ...given].filter((x) => {
      const text = JSON.stringify(x);
      return seen.has(text) ? false : (seen.add(text), true);
    });
  };
  const json = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE_V01,
    tlogs: logs('tlogs', 'rekor', inputs.rekor.map(log)),
    certificateAuthorities: chains(
      'certificateAuthorities',
      'fulcio',
      inputs.fulcio.flatMap(authorities),
    ),
    ctlogs: logs('ctlogs', 'ctfe', inputs.ctfe.map(log)),
    timestampAuthorities: chains('timestampAuthorities', 'tsa', inputs.tsa.flatMap(authorities)),
  };
  // Through the strict parser and writer: what we print is a root verifiers accept.
  return trustedRootToJSON(parseTrustedRoot(json));
}

/** A log's ID in hex, as verification errors print it. */
function hexLogId(l: JsonObject): string {
  return Buffer.from((l.logId as { keyId: string }).keyId, 'base64').toString('hex');
}

/** What the second of two descriptions of one log says otherwise, said for a person. */
function logDifference(a: JsonObject, b: JsonObject): string {
  const key = (l: JsonObject) => l.publicKey as Record<string, unknown>;
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const parts: string[] = [];
  if (!same(a.baseUrl, b.baseUrl))
    parts.push(`another URL (${String(b.baseUrl)}, not ${String(a.baseUrl)})`);
  if (!same(key(a).rawBytes, key(b).rawBytes) || !same(key(a).keyDetails, key(b).keyDetails))
    parts.push('another key');
  if (!same(key(a).validFor, key(b).validFor)) parts.push('other times its key is valid');
  for (const k of Object.keys({ ...a, ...b }))
    if (k !== 'baseUrl' && k !== 'publicKey' && !same(a[k], b[k])) parts.push(`another ${k}`);
  return parts.join(', ');
}

/** cosign's deprecated flags (options/trustedroot.go), each list matched by position. */
export interface DeprecatedTrustFlags {
  certificateChain: string[];
  fulcioUri: string[];
  ctfeKey: string[];
  ctfeStartTime: string[];
  ctfeEndTime: string[];
  ctfeUrl: string[];
  rekorKey: string[];
  rekorStartTime: string[];
  rekorEndTime: string[];
  rekorUrl: string[];
  timestampCertificateChain: string[];
  timestampUri: string[];
}

function time(v: string | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(Date.parse(v)))
    throw invalid(flag, `"${v}" is not an RFC 3339 time`);
  return v;
}

/**
 * cosign trustedroot.go: the spec flag and the old flags of one service may not be mixed; the
 * old flags pair by position (the i-th key with the i-th URL and times); a log with no start
 * time starts at the Unix epoch; `--rekor-key FILE,ORIGIN` names a Rekor v2 log's origin.
 */
export function deprecatedInputs(
  specs: { fulcio: string[]; rekor: string[]; ctfe: string[]; tsa: string[] },
  d: DeprecatedTrustFlags,
): TrustedRootInputs {
  const inputs = specInputs(specs);
  const mixed = (kind: string, spec: string[], old: string[][]) => {
    if (spec.length > 0 && old.some((o) => o.length > 0))
      throw invalid(`--${kind}`, `cannot use --${kind} and old ${kind} flags at the same time`);
  };
  mixed('fulcio', specs.fulcio, [d.certificateChain, d.fulcioUri]);
  mixed('rekor', specs.rekor, [d.rekorKey, d.rekorUrl, d.rekorStartTime, d.rekorEndTime]);
  mixed('ctfe', specs.ctfe, [d.ctfeKey, d.ctfeUrl, d.ctfeStartTime, d.ctfeEndTime]);
  mixed('tsa', specs.tsa, [d.timestampCertificateChain, d.timestampUri]);
  const EPOCH = '1970-01-01T00:00:00Z';
  d.certificateChain.forEach((f, i) =>
    inputs.fulcio.push({ url: d.fulcioUri[i] ?? '', chainFile: f, field: '--certificate-chain' }),
  );
  d.timestampCertificateChain.forEach((f, i) =>
    inputs.tsa.push({
      url: d.timestampUri[i] ?? '',
      chainFile: f,
      field: '--timestamp-certificate-chain',
      leafFirst: true,
      minCerts: 2,
    }),
  );
  const oldLog = (
    kind: 'rekor' | 'ctfe',
    keys: string[],
    urls: string[],
    starts: string[],
    ends: string[],
  ) =>
    keys.forEach((k, i) => {
      const [file, origin] =
        kind === 'rekor' ? [k.split(',')[0]!, k.split(',').slice(1).join(',')] : [k, ''];
      const l: LogInput = {
        url: urls[i] ?? '',
        keyFile: file,
        start: time(starts[i], `--${kind}-start-time`) ?? EPOCH,
        field: `--${kind}-key`,
      };
      const end = time(ends[i], `--${kind}-end-time`);
      if (end) l.end = end;
      if (origin) l.origin = origin;
      inputs[kind].push(l);
    });
  oldLog('rekor', d.rekorKey, d.rekorUrl, d.rekorStartTime, d.rekorEndTime);
  oldLog('ctfe', d.ctfeKey, d.ctfeUrl, d.ctfeStartTime, d.ctfeEndTime);
  return inputs;
}
