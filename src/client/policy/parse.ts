/**
 * From a parsed policy document (YAML or JSON, already a plain value) to a typed Policy, once,
 * with every error naming the file, the field path and the reason. Files a policy names
 * (identity lists, keys) are read through `files`, relative to the policy's folder; trust roots
 * are resolved beforehand (load.ts) and looked up by name here.
 *
 * The shape is policy-controller's ClusterImagePolicy (pkg/apis/policy/v1beta1, its validation
 * rules in clusterimagepolicy_validation.go), plus Signet's fields: `spec.blobs`, `spec.commits`,
 * `spec.threshold`, `authorities[].threshold`, `keyless.identitiesFrom`, `key.file`, and CEL as
 * the policy language (`policy.type: cel`).
 */
import type { KeyObject } from 'node:crypto';
import { invalid, reasonOf, SignetError } from '../../core/errors.ts';
import { parsePublicKey, type HashAlgorithm } from '../../core/crypto/keys.ts';
import { decodePemAll } from '../../core/encoding/pem.ts';
import { parseCertificate } from '../../core/x509/certificate.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import { anchoredRegExp, type IdentityPolicy, type Matcher } from '../verify/policy.ts';
import type { VerifyOptions } from '../verify/verifier.ts';
import { predicateTypeOf } from '../sign/predicate.ts';
import { compileCondition, type CelCondition } from './cel.ts';
import { PART_FLAGS, POLICY_PARTS, policyScope, type PolicyPart } from './cel-env.ts';
import { compileImageGlob, compilePathGlob } from './glob.ts';
import { parseReference } from '../../core/oci/reference.ts';
import type {
  AttestationRule,
  Authority,
  AuthorityTrust,
  BlobMatch,
  CommitMatch,
  LabelSelector,
  Policy,
  ResourceMatch,
  SigningAuthority,
} from './types.ts';
import { ownEntry } from '../../core/own.ts';

export const API_VERSIONS = ['policy.sigstore.dev/v1beta1', 'policy.sigstore.dev/v1alpha1'];

export interface PolicyContext {
  /** The file (and document) being read, for messages. */
  source: string;
  /** Reads a file named in the policy (relative to the policy's folder). */
  readFile: (file: string, field: string) => string;
  /** TrustRoot documents by name, already resolved. */
  trustRoots: Map<string, AuthorityTrust>;
  /** The trust from --trusted-root / --server, for authorities that name none. */
  defaultTrust: AuthorityTrust | undefined;
}

type Obj = Record<string, unknown>;

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

function obj(v: unknown, path: string, known: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(path, `must be a mapping (object), found ${kind(v)}`);
  for (const k of Object.keys(v))
    if (!known.includes(k))
      throw invalid(`${path}.${k}`, `is not a known field (known here: ${known.join(', ')})`);
  return v as Obj;
}

function str(v: unknown, path: string, required = false): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw invalid(path, 'is required');
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(path, `must be a string, found ${kind(v)}`);
  if (required && v === '') throw invalid(path, 'must not be empty');
  return v;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(path, `must be a list, found ${kind(v)}`);
  return v;
}

function bool(v: unknown, path: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(path, `must be true or false, found ${kind(v)}`);
  return v;
}

function positiveInt(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw invalid(path, `must be a whole number of at least 1, found ${JSON.stringify(v)}`);
  return v;
}

/** Wraps an error of a document with its source: `file: field: reason`. */
export function inDocument<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SignetError)
      throw new SignetError(e.kind, 'POLICY_INVALID', `${source}: ${e.message}`, {
        cause: e,
        details: { file: source, field: e.field },
      });
    throw e;
  }
}

/** The header shared by policies and trust roots. */
export function documentHeader(doc: unknown): { kind: string; name: string; spec: unknown } {
  const o = obj(doc, '(document)', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const apiVersion = str(o.apiVersion, 'apiVersion', true)!;
  if (!API_VERSIONS.includes(apiVersion))
    throw invalid('apiVersion', `"${apiVersion}" is not one of ${API_VERSIONS.join(', ')}`);
  const k = str(o.kind, 'kind', true)!;
  if (k !== 'ClusterImagePolicy' && k !== 'TrustRoot')
    throw invalid('kind', `"${k}" is not ClusterImagePolicy or TrustRoot`);
  if (o.metadata === undefined) throw invalid('metadata.name', 'is required');
  if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata))
    throw invalid('metadata', `must be a mapping, found ${kind(o.metadata)}`);
  const name = str((o.metadata as Obj).name, 'metadata.name', true)!;
  if (o.spec === undefined) throw invalid('spec', 'is required');
  return { kind: k, name, spec: o.spec };
}

/** A ClusterImagePolicy document (header already read). */
export function parsePolicySpec(name: string, spec: unknown, ctx: PolicyContext): Policy {
  const s = obj(spec, 'spec', [
    'images',
    'blobs',
    'commits',
    'authorities',
    'threshold',
    'policy',
    'mode',
    'match',
  ]);
  const images = list(s.images, 'spec.images').map((img, i) => {
    const p = `spec.images[${i}]`;
    const o = obj(img, p, ['glob']);
    return compileImageGlob(str(o.glob, `${p}.glob`, true)!, `${p}.glob`);
  });
  const blobs = list(s.blobs, 'spec.blobs').map((b, i): BlobMatch => {
    const p = `spec.blobs[${i}]`;
    const o = obj(b, p, ['path', 'name']);
    const out: BlobMatch = {};
    const path = str(o.path, `${p}.path`);
    const nm = str(o.name, `${p}.name`);
    if (path === undefined && nm === undefined)
      throw invalid(p, 'needs "path" (a path glob) or "name" (an artifact name glob)');
    if (path !== undefined) out.path = compilePathGlob(path, `${p}.path`);
    if (nm !== undefined) out.name = compilePathGlob(nm, `${p}.name`);
    return out;
  });
  const commits = list(s.commits, 'spec.commits').map((c, i): CommitMatch => {
    const p = `spec.commits[${i}]`;
    const o = obj(c, p, ['repository', 'ref']);
    const ref = str(o.ref, `${p}.ref`);
    return {
      repository: compilePathGlob(str(o.repository, `${p}.repository`, true)!, `${p}.repository`),
      ref: ref === undefined ? undefined : compilePathGlob(ref, `${p}.ref`),
    };
  });
  if (images.length + blobs.length + commits.length === 0)
    throw invalid(
      'spec.images',
      'is required (or spec.blobs / spec.commits): say which artifacts the policy covers',
    );
  const mode = str(s.mode, 'spec.mode') ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'warn')
    throw invalid('spec.mode', `"${mode}" is not a mode: use enforce or warn`);
  const rawAuthorities = list(s.authorities, 'spec.authorities');
  if (rawAuthorities.length === 0)
    throw invalid('spec.authorities', 'is required: at least one authority must be listed');
  const authorities = rawAuthorities.map((a, i) =>
    parseAuthority(a, `spec.authorities[${i}]`, i, ctx),
  );
  const names = new Set<string>();
  for (const [i, a] of authorities.entries()) {
    if (names.has(a.name))
      throw invalid(`spec.authorities[${i}].name`, `"${a.name}" is used by two authorities`);
    names.add(a.name);
  }
  const threshold = positiveInt(s.threshold, 'spec.threshold') ?? 1;
  if (threshold > authorities.length)
    throw invalid(
      'spec.threshold',
      `is ${threshold} but the policy lists only ${authorities.length} authorit${authorities.length === 1 ? 'y' : 'ies'}`,
    );
  const match = list(s.match, 'spec.match').map((m, i): ResourceMatch => {
    const p = `spec.match[${i}]`;
    const o = obj(m, p, ['group', 'version', 'resource', 'selector']);
    const selector =
      o.selector === undefined ? undefined : parseSelector(o.selector, `${p}.selector`);
    const resource = str(o.resource, `${p}.resource`) ?? '';
    if (selector && resource === '')
      throw invalid(`${p}.selector`, 'a selector needs a resource type to match the labels of');
    const group = str(o.group, `${p}.group`) ?? '';
    const version = str(o.version, `${p}.version`) ?? '';
    checkResourceMatch(resource, group, version, p);
    return { group, version, resource, selector };
  });
  return {
    name,
    source: ctx.source,
    mode,
    images,
    blobs,
    commits,
    match,
    authorities,
    threshold,
    ...(() => {
      const c = parseCondition(s.policy, 'spec.policy', 'policy');
      return { condition: c?.condition, includes: c?.includes ?? [] };
    })(),
  };
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** A Kubernetes LabelSelector (`matchLabels`, `matchExpressions`), checked as the API server does. */
function parseSelector(v: unknown, path: string): LabelSelector {
  const sel = obj(v, path, ['matchLabels', 'matchExpressions']);
  const labels = sel.matchLabels ?? {};
  const matchLabels: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(labels, `${path}.matchLabels`, Object.keys(labels))))
    matchLabels[k] = str(x, `${path}.matchLabels.${k}`, true)!;
  const matchExpressions = list(sel.matchExpressions, `${path}.matchExpressions`).map((x, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const e = obj(x, p, ['key', 'operator', 'values']);
    const key = str(e.key, `${p}.key`, true)!;
    const op = str(e.operator, `${p}.operator`, true)!;
    const operator = OPERATORS.find((o) => o === op);
    if (!operator) throw invalid(`${p}.operator`, `"${op}" is not one of ${OPERATORS.join(', ')}`);
    const values = list(e.values, `${p}.values`).map((y, j) => str(y, `${p}.values[${j}]`, true)!);
    const wantsValues = operator === 'In' || operator === 'NotIn';
    if (wantsValues && values.length === 0)
      throw invalid(`${p}.values`, `is required for ${operator}: the label values to compare`);
    if (!wantsValues && values.length > 0)
      throw invalid(`${p}.values`, `must be empty for ${operator}`);
    return { key, operator, values };
  });
  return { matchLabels, matchExpressions };
}

/**
 * The resources admission decides, by their API group (policy-controller's webhook serves the
 * same set and refuses other names in `spec.match[].resource`).
 */
const ADMITTED_RESOURCES: Record<string, string> = {
  pods: '',
  deployments: 'apps',
  replicasets: 'apps',
  statefulsets: 'apps',
  daemonsets: 'apps',
  jobs: 'batch',
  cronjobs: 'batch',
};

/** A `spec.match` entry that could never match a review is refused, not left to match nothing. */
function checkResourceMatch(resource: string, group: string, version: string, p: string): void {
  const known = Object.keys(ADMITTED_RESOURCES).join(', ');
  if (resource === '') throw invalid(`${p}.resource`, `is required: one of ${known}`);
  const want = ownEntry(ADMITTED_RESOURCES, resource);
  if (want === undefined)
    throw invalid(`${p}.resource`, `"${resource}" is not a resource admission decides: ${known}`);
  if (group !== want)
    throw invalid(
      `${p}.group`,
      `${JSON.stringify(group)} is not the API group of ${resource}: ${want === '' ? 'leave it out (the core group "")' : `use ${want}`}`,
    );
  if (version !== 'v1' && version !== '*')
    throw invalid(`${p}.version`, `${JSON.stringify(version)} is not v1 or "*" (any version)`);
}

/** spec.policy's booleans naming what else its condition sees (policy-controller's). */
const INCLUDE_FLAGS: ReadonlyArray<[string, PolicyPart]> = POLICY_PARTS.map((p) => [
  PART_FLAGS[p],
  p,
]);

/**
 * `policy: {type, data}`: CEL only; CUE and Rego are refused by name. A policy's (spec.policy)
 * may include parts of the admitted object; an attestation's sees its statement only.
 */
function parseCondition(
  v: unknown,
  path: string,
  scope: 'statement' | 'policy',
): { condition: CelCondition; includes: PolicyPart[] } | undefined {
  if (v === undefined || v === null) return undefined;
  const o = obj(v, path, [
    'type',
    'data',
    'remote',
    'configMapRef',
    ...INCLUDE_FLAGS.map(([k]) => k),
  ]);
  const type = str(o.type, `${path}.type`, true)!;
  if (type === 'cue' || type === 'rego')
    throw new SignetError(
      'unsupported',
      'POLICY_LANGUAGE',
      `${type === 'cue' ? 'CUE' : 'Rego'} policies are not supported: Signet evaluates conditions in CEL (write type: cel and a CEL expression in data)`,
      { field: `${path}.type` },
    );
  if (type !== 'cel') throw invalid(`${path}.type`, `"${type}" is not a policy language: use cel`);
  for (const k of ['remote', 'configMapRef'])
    if (o[k] !== undefined)
      throw invalid(`${path}.${k}`, 'is not supported: give the CEL expression inline in data');
  const includes: PolicyPart[] = [];
  for (const [k, part] of INCLUDE_FLAGS) {
    if (bool(o[k], `${path}.${k}`) !== true) continue;
    if (scope === 'statement')
      throw invalid(
        `${path}.${k}`,
        'belongs in spec.policy: an attestation condition sees its statement',
      );
    includes.push(part);
  }
  const condition = compileCondition(
    str(o.data, `${path}.data`, true)!,
    scope === 'statement' ? 'statement' : policyScope(includes),
    `${path}.data`,
  );
  return { condition, includes };
}

function matcherOf(
  exact: string | undefined,
  re: string | undefined,
  path: string,
  what: string,
): Matcher {
  if (exact !== undefined && re !== undefined)
    throw invalid(path, `give either ${what} or ${what}RegExp, not both`);
  if (exact !== undefined && exact !== '') return { exact };
  if (re !== undefined && re !== '') return { regexp: anchoredRegExp(re, `${path}.${what}RegExp`) };
  throw invalid(path, `needs ${what} or ${what}RegExp`);
}

function parseIdentity(v: unknown, path: string): IdentityPolicy {
  const o = obj(v, path, ['issuer', 'issuerRegExp', 'subject', 'subjectRegExp']);
  return {
    subjectAlternativeName: matcherOf(
      str(o.subject, `${path}.subject`),
      str(o.subjectRegExp, `${path}.subjectRegExp`),
      path,
      'subject',
    ),
    issuer: matcherOf(
      str(o.issuer, `${path}.issuer`),
      str(o.issuerRegExp, `${path}.issuerRegExp`),
      path,
      'issuer',
    ),
  };
}

const IDENTITY_LIKE = /^[^\s@]+@[^\s@]+$|^[a-z][a-z0-9+.-]*:\S+$/i;

/**
 * Identities kept in the repository: one per line (`lines`), or CODEOWNERS-like lines
 * `pattern owner...` (`codeowners`, optionally only the line whose pattern is `entry`).
 * `#` starts a comment. Owners must be signing identities (emails or URIs); a `@handle` is
 * refused, since a handle is not what a certificate names.
 */
export function parseIdentityFile(
  text: string,
  format: 'lines' | 'codeowners',
  entry: string | undefined,
  file: string,
): string[] {
  const out: string[] = [];
  let found = false;
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const where = `${file} line ${n + 1}`;
    let owners: string[];
    if (format === 'lines') {
      if (/\s/.test(line)) throw invalid(where, `"${line}" is not one identity (one per line)`);
      owners = [line];
    } else {
      const [pattern, ...rest] = line.split(/\s+/);
      if (entry !== undefined && pattern !== entry) continue;
      found = true;
      // CODEOWNERS: the last matching line wins.
      if (entry !== undefined) out.length = 0;
      owners = rest;
    }
    for (const o of owners) {
      if (o.startsWith('@'))
        throw invalid(
          where,
          `"${o}" is a handle, not a signing identity: list the email or URI the signer's certificate names`,
        );
      if (!IDENTITY_LIKE.test(o))
        throw invalid(where, `"${o}" is not an identity (an email address or a URI)`);
      if (!out.includes(o)) out.push(o);
    }
  }
  if (format === 'codeowners' && entry !== undefined && !found)
    throw invalid(file, `has no line for "${entry}"`);
  if (out.length === 0) throw invalid(file, 'lists no identities');
  return out;
}

function parseIdentitiesFrom(v: unknown, path: string, ctx: PolicyContext): IdentityPolicy[] {
  const o = obj(v, path, ['file', 'format', 'entry', 'issuer', 'issuerRegExp']);
  const file = str(o.file, `${path}.file`, true)!;
  const format = str(o.format, `${path}.format`) ?? 'lines';
  if (format !== 'lines' && format !== 'codeowners')
    throw invalid(`${path}.format`, `"${format}" is not lines or codeowners`);
  const entry = str(o.entry, `${path}.entry`);
  if (entry !== undefined && format !== 'codeowners')
    throw invalid(`${path}.entry`, 'only applies to format: codeowners');
  const issuer = matcherOf(
    str(o.issuer, `${path}.issuer`),
    str(o.issuerRegExp, `${path}.issuerRegExp`),
    path,
    'issuer',
  );
  const text = ctx.readFile(file, `${path}.file`);
  return parseIdentityFile(text, format, entry, file).map((id) => ({
    subjectAlternativeName: { exact: id },
    issuer,
  }));
}

function parseKey(
  v: unknown,
  path: string,
  ctx: PolicyContext,
): { key: KeyObject; hash: HashAlgorithm | undefined } {
  const o = obj(v, path, ['data', 'file', 'kms', 'secretRef', 'hashAlgorithm']);
  if (o.kms !== undefined)
    throw invalid(
      `${path}.kms`,
      'KMS keys are not supported: give the public key in data or file (export it with `cosign public-key --key <kms-uri>`)',
    );
  if (o.secretRef !== undefined)
    throw invalid(
      `${path}.secretRef`,
      'Kubernetes secrets are not read: give the public key in data or file',
    );
  const data = str(o.data, `${path}.data`);
  const file = str(o.file, `${path}.file`);
  if ((data === undefined) === (file === undefined))
    throw invalid(path, 'give the public key in exactly one of data (PEM) or file');
  // policy-controller's names, compared as it does (case and surrounding space ignored).
  const ha = str(o.hashAlgorithm, `${path}.hashAlgorithm`);
  const hash = ha?.trim().toLowerCase();
  if (hash === 'sha224')
    throw invalid(`${path}.hashAlgorithm`, 'sha224 is not supported: use sha256, sha384 or sha512');
  if (hash !== undefined && hash !== 'sha256' && hash !== 'sha384' && hash !== 'sha512')
    throw invalid(`${path}.hashAlgorithm`, `"${ha}" is not sha256, sha384 or sha512`);
  const field = data !== undefined ? `${path}.data` : `${path}.file`;
  const pem = data ?? ctx.readFile(file!, field);
  try {
    return { key: parsePublicKey(pem, field), hash };
  } catch (e) {
    throw invalid(field, `is not a public key: ${reasonOf(e)}`, e);
  }
}

function trustRef(name: string | undefined, path: string, ctx: PolicyContext): AuthorityTrust {
  if (name === undefined) {
    if (!ctx.defaultTrust)
      throw invalid(
        path,
        'has no trust root: name a TrustRoot (trustRootRef) or give --trusted-root / --server',
      );
    return ctx.defaultTrust;
  }
  const t = ctx.trustRoots.get(name);
  if (!t)
    throw invalid(
      `${path}.trustRootRef`,
      `names the trust root "${name}", which is not defined (define a TrustRoot document with metadata.name: ${name})`,
    );
  return t;
}

/** A CA chain given inline (keyless.ca-cert.data): it replaces the root's CAs. */
function withCaCert(trust: AuthorityTrust, v: unknown, path: string): AuthorityTrust {
  const o = obj(v, path, ['data', 'secretRef', 'kms', 'hashAlgorithm']);
  for (const k of ['secretRef', 'kms'] as const)
    if (o[k] !== undefined)
      throw invalid(
        `${path}.${k}`,
        `is not supported: give the CA chain in ${path.split('.').pop()}.data (PEM), or name a TrustRoot with trustRootRef`,
      );
  const data = str(o.data, `${path}.data`, true)!;
  const blocks = decodePemAll(data, `${path}.data`);
  if (blocks.length === 0) throw invalid(`${path}.data`, 'holds no PEM certificate');
  const ders = blocks.map((b, i) => {
    if (b.label !== 'CERTIFICATE')
      throw invalid(`${path}.data`, `PEM block ${i + 1} is "${b.label}", not a CERTIFICATE`);
    parseCertificate(b.der, `${path}.data[${i}]`);
    return b.der;
  });
  const root: TrustedRoot = {
    ...trust.root,
    certificateAuthorities: [
      {
        subject: { organization: '', commonName: '' },
        uri: '',
        certChain: ders,
        validFor: { start: new Date(0), end: undefined },
        operator: undefined,
      },
    ],
  };
  return { root, label: `${trust.label} with the CA of ${path}` };
}

function parseAuthority(v: unknown, path: string, index: number, ctx: PolicyContext): Authority {
  const o = obj(v, path, [
    'name',
    'key',
    'keyless',
    'static',
    'source',
    'ctlog',
    'attestations',
    'rfc3161timestamp',
    'signatureFormat',
    'threshold',
  ]);
  const name = str(o.name, `${path}.name`) || `authority-${index}`;
  const given = (['key', 'keyless', 'static'] as const).filter((k) => o[k] !== undefined);
  if (given.length === 0) throw invalid(path, 'needs one of key, keyless, static');
  if (given.length > 1)
    throw invalid(
      path,
      `gives ${given.join(' and ')}: an authority is exactly one of key, keyless, static`,
    );
  if (o.static !== undefined) {
    for (const k of ['attestations', 'source', 'ctlog', 'rfc3161timestamp', 'threshold'])
      if (o[k] !== undefined) throw invalid(`${path}.${k}`, 'does not apply to a static authority');
    const st = obj(o.static, `${path}.static`, ['action', 'message']);
    const action = str(st.action, `${path}.static.action`, true)!;
    if (action !== 'pass' && action !== 'fail')
      throw invalid(`${path}.static.action`, `"${action}" is not pass or fail`);
    return {
      kind: 'static',
      name,
      field: path,
      action,
      message: str(st.message, `${path}.static.message`),
    };
  }
  let trust: AuthorityTrust;
  let key: KeyObject | undefined;
  let identities: IdentityPolicy[] = [];
  const verify: VerifyOptions = {};
  if (o.key !== undefined) {
    const k = parseKey(o.key, `${path}.key`, ctx);
    key = k.key;
    if (k.hash !== undefined) verify.signatureHash = k.hash;
    trust = trustRef(undefined, path, ctx);
  } else {
    const kl = obj(o.keyless, `${path}.keyless`, [
      'url',
      'identities',
      'identitiesFrom',
      'ca-cert',
      'trustRootRef',
      'insecureIgnoreSCT',
    ]);
    const kp = `${path}.keyless`;
    const url = str(kl.url, `${kp}.url`);
    if (url !== undefined && !/^https?:\/\/\S+$/.test(url))
      throw invalid(`${kp}.url`, `"${url}" is not an http(s) URL`);
    if (url !== undefined && kl['ca-cert'] !== undefined)
      throw invalid(kp, 'give either url or ca-cert, not both');
    identities = list(kl.identities, `${kp}.identities`).map((x, i) =>
      parseIdentity(x, `${kp}.identities[${i}]`),
    );
    if (kl.identitiesFrom !== undefined)
      identities.push(...parseIdentitiesFrom(kl.identitiesFrom, `${kp}.identitiesFrom`, ctx));
    if (identities.length === 0)
      throw invalid(`${kp}.identities`, 'is required: say who may sign (or give identitiesFrom)');
    trust = trustRef(str(kl.trustRootRef, `${kp}.trustRootRef`), kp, ctx);
    if (kl['ca-cert'] !== undefined) trust = withCaCert(trust, kl['ca-cert'], `${kp}.ca-cert`);
    if (bool(kl.insecureIgnoreSCT, `${kp}.insecureIgnoreSCT`)) verify.ctlogThreshold = 0;
  }
  if (o.ctlog !== undefined) {
    const c = obj(o.ctlog, `${path}.ctlog`, ['url', 'trustRootRef']);
    const ref = str(c.trustRootRef, `${path}.ctlog.trustRootRef`);
    const url = str(c.url, `${path}.ctlog.url`);
    let tlogs = (ref === undefined ? trust : trustRef(ref, `${path}.ctlog`, ctx)).root.tlogs;
    if (url !== undefined) {
      const want = url.replace(/\/+$/, '');
      tlogs = tlogs.filter((l) => l.baseUrl.replace(/\/+$/, '') === want);
      if (tlogs.length === 0)
        throw invalid(`${path}.ctlog.url`, `no transparency log of the trust root is at ${url}`);
    }
    trust = { root: { ...trust.root, tlogs }, label: trust.label };
  }
  // policy-controller: a key authority needs no log entry unless it names a log (`ctlog`);
  // `rfc3161timestamp` asks for a signed timestamp instead of a log entry. Entries a signature
  // does carry are verified all the same.
  if (o.ctlog === undefined && (key !== undefined || o.rfc3161timestamp !== undefined))
    verify.tlogThreshold = 0;
  // A key needs no time of signing (a certificate is checked at the times verified).
  if (key !== undefined) verify.timestampThreshold = 0;
  if (o.rfc3161timestamp !== undefined) {
    verify.signedTimestampThreshold = 1;
    const t = obj(o.rfc3161timestamp, `${path}.rfc3161timestamp`, ['trustRootRef']);
    const ref = str(t.trustRootRef, `${path}.rfc3161timestamp.trustRootRef`);
    if (ref !== undefined)
      trust = {
        root: {
          ...trust.root,
          timestampAuthorities: trustRef(ref, `${path}.rfc3161timestamp`, ctx).root
            .timestampAuthorities,
        },
        label: trust.label,
      };
  }
  const sources = list(o.source, `${path}.source`).map((x, i) => {
    const p = `${path}.source[${i}]`;
    const s = obj(x, p, ['oci', 'signaturePullSecrets', 'tagPrefix']);
    if (s.signaturePullSecrets !== undefined)
      throw invalid(
        `${p}.signaturePullSecrets`,
        'Kubernetes pull secrets are not read: signet reads every registry with --registry-username / --registry-password or the Docker config (~/.docker/config.json)',
      );
    const oci = str(s.oci, `${p}.oci`, true)!;
    const ref = parseReference(oci, `${p}.oci`);
    if (ref.tag !== undefined && oci.endsWith(`:${ref.tag}`))
      throw invalid(`${p}.oci`, 'names a repository, without a tag');
    if (ref.digest) throw invalid(`${p}.oci`, 'names a repository, without a digest');
    const tagPrefix = str(s.tagPrefix, `${p}.tagPrefix`);
    // The signature tag is <prefix>sha256-<64 hex>.sig: a valid tag (at most 128 characters).
    if (tagPrefix !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,52}$/.test(tagPrefix))
      throw invalid(
        `${p}.tagPrefix`,
        `"${tagPrefix}" cannot start a tag: letters, digits, "_", "." and "-", at most 53, not starting with "." or "-"`,
      );
    return {
      oci: `${ref.registry === 'docker.io' ? 'index.docker.io' : ref.registry}/${ref.repository}`,
      tagPrefix,
    };
  });
  if (sources.length > 1) throw invalid(`${path}.source`, 'only a single source is supported');
  const sf = str(o.signatureFormat, `${path}.signatureFormat`);
  if (sf !== undefined && sf !== 'legacy' && sf !== 'bundle')
    throw invalid(`${path}.signatureFormat`, `"${sf}" is not legacy or bundle`);
  const attestations = list(o.attestations, `${path}.attestations`).map((x, i): AttestationRule => {
    const p = `${path}.attestations[${i}]`;
    const a = obj(x, p, ['name', 'predicateType', 'policy']);
    const pt = str(a.predicateType, `${p}.predicateType`, true)!;
    let predicateType: string;
    try {
      predicateType = predicateTypeOf(pt);
    } catch {
      throw invalid(`${p}.predicateType`, `"${pt}" is neither a known short name nor a URI`);
    }
    return {
      name: str(a.name, `${p}.name`, true)!,
      predicateType,
      condition: parseCondition(a.policy, `${p}.policy`, 'statement')?.condition,
    };
  });
  const distinct = key ? 1 : identities.length;
  const threshold = positiveInt(o.threshold, `${path}.threshold`) ?? 1;
  if (
    threshold > 1 &&
    identities.some((id) => 'regexp' in id.subjectAlternativeName) === false &&
    threshold > distinct
  )
    throw invalid(
      `${path}.threshold`,
      `is ${threshold} but the authority accepts only ${distinct} identit${distinct === 1 ? 'y' : 'ies'}`,
    );
  const out: SigningAuthority = {
    kind: key ? 'key' : 'keyless',
    name,
    field: path,
    key,
    identities,
    trust,
    verify,
    attestations,
    threshold,
    sources,
    signatureFormat: sf as 'legacy' | 'bundle' | undefined,
  };
  return out;
}
