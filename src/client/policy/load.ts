/**
 * Loading policies at the edge: files and folders are read, YAML/JSON documents split, TrustRoot
 * documents resolved (a trusted_root.json file, inline keys, or a TUF repository), then each
 * ClusterImagePolicy parsed (parse.ts). Every error names the file, the field path and the reason;
 * nothing is half-loaded: one bad document refuses the whole set.
 */
import type { Stats } from 'node:fs';
import path from 'node:path';
import { invalid, SignetError, describeSystemError } from '../../core/errors.ts';
import { decodePemAll } from '../../core/encoding/pem.ts';
import { parsePublicKey, keyDetailsOf, spkiDer } from '../../core/crypto/keys.ts';
import { noteLogId } from '../../core/note/keys.ts';
import {
  parseTrustedRoot,
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  type TrustedRoot,
} from '../../bundle/trusted-root.ts';
import { MAX_DOCUMENT_BYTES } from '../file-or-url.ts';
import { documentHeader, inDocument, parsePolicySpec, type PolicyContext } from './parse.ts';
import type { AuthorityTrust, Policy } from './types.ts';
import { parseJsonText } from '../../core/json.ts';
import { parseYamlDocuments } from '../../core/yaml.ts';
const fs = process.getBuiltinModule('node:fs');
const { createHash } = process.getBuiltinModule('node:crypto');

export interface LoadPolicyOptions {
  /** The trust from --trusted-root / --server, for authorities that name no trust root. */
  defaultTrust?: AuthorityTrust;
  /** Folder for TUF caches of `TrustRoot` documents with `remote`. */
  tufCacheDir?: string;
  /** Each request's deadline for those TUF repositories, in milliseconds. */
  timeoutMs?: number;
}

interface Document {
  source: string;
  dir: string;
  value: unknown;
}

const POLICY_EXTENSIONS = ['.yaml', '.yml', '.json'];

function fileError(file: string, e: unknown): SignetError {
  return invalid('--policy', describeSystemError(e, file), e);
}

/** Files named on the command line; a folder stands for its *.yaml, *.yml, *.json files. */
export function policyFiles(paths: string[]): string[] {
  if (paths.length === 0) throw invalid('--policy', 'is required: the policy file(s) to apply');
  const out: string[] = [];
  for (const p of paths) {
    let st: Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      throw fileError(p, e);
    }
    if (st.isDirectory()) {
      const files = fs
        .readdirSync(p)
        .filter((f) => POLICY_EXTENSIONS.includes(path.extname(f)))
        .sort()
        .map((f) => path.join(p, f));
      if (files.length === 0)
        throw invalid('--policy', `${p} holds no policy files (*.yaml, *.yml, *.json)`);
      out.push(...files);
    } else out.push(p);
  }
  for (const f of out)
    if (/\.(cue|rego)$/.test(f))
      throw new SignetError(
        'unsupported',
        'POLICY_LANGUAGE',
        `${f}: ${f.endsWith('.cue') ? 'CUE' : 'Rego'} policies are not supported: Signet policies are ClusterImagePolicy documents (YAML or JSON) with conditions in CEL`,
        { field: '--policy' },
      );
  return out;
}

function readDocuments(file: string): Document[] {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_DOCUMENT_BYTES)
      throw invalid('--policy', `${file} is ${size} bytes; a policy file is at most 16 MiB`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw fileError(file, e);
  }
  const docs = parseYamlDocuments(text, file, {
    code: 'POLICY_INVALID',
    details: { file },
    maxAliasCount: 50,
  });
  const out: Document[] = [];
  for (const [i, value] of docs.entries()) {
    const source = docs.length > 1 ? `${file} (document ${i + 1})` : file;
    if (value === null || value === undefined) continue; // an empty document (`---` at the end)
    out.push({ source, dir: path.dirname(file), value });
  }
  if (out.length === 0)
    throw new SignetError('invalid-input', 'POLICY_INVALID', `${file}: holds no document`);
  return out;
}

/** A file a policy names, relative to the policy's folder. */
function reader(dir: string) {
  return (file: string, field: string): string => {
    const p = path.resolve(dir, file);
    try {
      const size = fs.statSync(p).size;
      if (size > MAX_DOCUMENT_BYTES) throw invalid(field, `${file} is larger than 16 MiB`);
      return fs.readFileSync(p, 'utf8');
    } catch (e) {
      if (e instanceof SignetError) throw e;
      throw invalid(field, describeSystemError(e, file), e);
    }
  };
}

/** Reads every policy and trust root in `paths`; a bad one refuses the whole set. */
export async function loadPolicies(
  paths: string[],
  opts: LoadPolicyOptions = {},
): Promise<Policy[]> {
  const docs = policyFiles(paths).flatMap(readDocuments);
  const headers = docs.map((d) => ({
    doc: d,
    ...inDocument(d.source, () => documentHeader(d.value)),
  }));
  const trustRoots = new Map<string, AuthorityTrust>();
  for (const h of headers.filter((x) => x.kind === 'TrustRoot')) {
    if (trustRoots.has(h.name))
      throw new SignetError(
        'invalid-input',
        'POLICY_INVALID',
        `${h.doc.source}: metadata.name: the trust root "${h.name}" is defined twice`,
      );
    const root = await inDocumentAsync(h.doc.source, () =>
      resolveTrustRoot(h.spec, reader(h.doc.dir), opts),
    );
    trustRoots.set(h.name, { root, label: `trust root "${h.name}"` });
  }
  const policies: Policy[] = [];
  const names = new Set<string>();
  for (const h of headers.filter((x) => x.kind === 'ClusterImagePolicy')) {
    if (names.has(h.name))
      throw new SignetError(
        'invalid-input',
        'POLICY_INVALID',
        `${h.doc.source}: metadata.name: the policy "${h.name}" is defined twice`,
      );
    names.add(h.name);
    const ctx: PolicyContext = {
      source: h.doc.source,
      readFile: reader(h.doc.dir),
      trustRoots,
      defaultTrust: opts.defaultTrust,
    };
    policies.push(inDocument(h.doc.source, () => parsePolicySpec(h.name, h.spec, ctx)));
  }
  if (policies.length === 0)
    throw invalid('--policy', `${paths.join(', ')}: no ClusterImagePolicy document found`);
  return policies;
}

async function inDocumentAsync<T>(source: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    return inDocument(source, () => {
      throw e;
    });
  }
}

type Obj = Record<string, unknown>;

function object(v: unknown, p: string, known: string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(p, 'must be a mapping (object)');
  for (const k of Object.keys(v))
    if (!known.includes(k))
      throw invalid(`${p}.${k}`, `is not a known field (known here: ${known.join(', ')})`);
  return v as Obj;
}

/**
 * A TrustRoot's spec (policy-controller's v1alpha1 TrustRoot): `sigstoreKeys` inline, `remote`
 * (a TUF repository: `mirror` and its `root`, base64, or Signet's `rootFile`), or Signet's
 * `trustedRootFile` (a trusted_root.json).
 */
async function resolveTrustRoot(
  spec: unknown,
  read: (file: string, field: string) => string,
  opts: LoadPolicyOptions,
): Promise<TrustedRoot> {
  const s = object(spec, 'spec', ['remote', 'repository', 'sigstoreKeys', 'trustedRootFile']);
  const forms = ['remote', 'repository', 'sigstoreKeys', 'trustedRootFile'].filter(
    (k) => s[k] !== undefined,
  );
  if (forms.length !== 1)
    throw invalid(
      'spec',
      forms.length === 0
        ? 'needs one of trustedRootFile, remote, sigstoreKeys'
        : `gives ${forms.join(' and ')}: a trust root is exactly one of them`,
    );
  if (s.repository !== undefined)
    throw invalid(
      'spec.repository',
      'an embedded TUF repository (mirrorFS) is not supported: use remote (a TUF repository URL) or trustedRootFile',
    );
  if (s.trustedRootFile !== undefined) {
    if (typeof s.trustedRootFile !== 'string' || s.trustedRootFile === '')
      throw invalid('spec.trustedRootFile', 'must be the path of a trusted_root.json');
    const text = read(s.trustedRootFile, 'spec.trustedRootFile');
    const json = parseJsonText(text, 'spec.trustedRootFile', s.trustedRootFile);
    try {
      return parseTrustedRoot(json);
    } catch (e) {
      throw invalid(
        'spec.trustedRootFile',
        `${s.trustedRootFile} is not a valid trusted root: ${(e as Error).message}`,
        e,
      );
    }
  }
  if (s.sigstoreKeys !== undefined) return fromSigstoreKeys(s.sigstoreKeys);
  const r = object(s.remote, 'spec.remote', [
    'mirror',
    'root',
    'rootFile',
    'targets',
    'trustedRootTarget',
  ]);
  if (typeof r.mirror !== 'string' || !/^https?:\/\/\S+$/.test(r.mirror))
    throw invalid('spec.remote.mirror', 'must be the http(s) URL of a TUF repository');
  if (r.trustedRootTarget !== undefined && r.trustedRootTarget !== 'trusted_root.json')
    throw invalid('spec.remote.trustedRootTarget', 'only the target trusted_root.json is read');
  if (r.targets !== undefined && r.targets !== 'targets')
    throw invalid('spec.remote.targets', 'only the default targets folder ("targets") is read');
  if ((r.root === undefined) === (r.rootFile === undefined))
    throw invalid('spec.remote', 'give the TUF root.json to trust: root (base64) or rootFile');
  let rootText: string;
  if (r.rootFile !== undefined) {
    if (typeof r.rootFile !== 'string') throw invalid('spec.remote.rootFile', 'must be a path');
    rootText = read(r.rootFile, 'spec.remote.rootFile');
  } else {
    if (typeof r.root !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(r.root))
      throw invalid('spec.remote.root', 'must be the base64 of a TUF root.json');
    rootText = Buffer.from(r.root, 'base64').toString('utf8');
  }
  if (!opts.tufCacheDir)
    throw invalid('spec.remote', 'a TUF repository needs a cache folder (internal: tufCacheDir)');
  // The TUF client pins a root from a file: keep the given root beside the cache.
  const pinDir = path.join(opts.tufCacheDir, 'policy-roots');
  fs.mkdirSync(pinDir, { recursive: true });
  const rootFile = path.join(
    pinDir,
    `${createHash('sha256').update(rootText).digest('hex').slice(0, 32)}.root.json`,
  );
  fs.writeFileSync(rootFile, rootText);
  const { fetchTrust } = await import('../tuf/index.ts');
  let trust;
  try {
    trust = await fetchTrust({
      tufUrl: r.mirror,
      rootFile,
      cacheDir: opts.tufCacheDir,
      warn: () => {},
      timeoutMs: opts.timeoutMs,
    });
  } catch (e) {
    throw invalid(
      'spec.remote',
      `the trust root cannot be fetched from ${r.mirror}: ${(e as Error).message}`,
      e,
    );
  }
  return parseTrustedRoot(trust.trustedRoot);
}

/** policy-controller's SigstoreKeys (base64 PEM keys and chains) as a trusted root. */
function fromSigstoreKeys(v: unknown): TrustedRoot {
  const p = 'spec.sigstoreKeys';
  const s = object(v, p, ['certificateAuthorities', 'tLogs', 'ctLogs', 'timestampAuthorities']);
  const pem = (x: unknown, f: string) => {
    if (typeof x !== 'string') throw invalid(f, 'must be base64 of PEM');
    return Buffer.from(x, 'base64').toString('utf8');
  };
  const arr = (x: unknown, f: string) => {
    if (x === undefined) return [];
    if (!Array.isArray(x)) throw invalid(f, 'must be a list');
    return x;
  };
  const cas = (x: unknown, f: string) =>
    arr(x, f).map((c, i) => {
      const q = `${f}[${i}]`;
      const o = object(c, q, ['subject', 'uri', 'certChain', 'validFor']);
      const subject = object(o.subject ?? {}, `${q}.subject`, ['organization', 'commonName']);
      const certs = decodePemAll(pem(o.certChain, `${q}.certChain`), `${q}.certChain`);
      if (certs.length === 0) throw invalid(`${q}.certChain`, 'holds no PEM certificate');
      return {
        subject: {
          organization: String(subject.organization ?? ''),
          commonName: String(subject.commonName ?? ''),
        },
        uri: String(o.uri ?? ''),
        certChain: {
          certificates: certs.map((b) => ({ rawBytes: Buffer.from(b.der).toString('base64') })),
        },
        validFor: { start: '1970-01-01T00:00:00Z' },
      };
    });
  const logs = (x: unknown, f: string, tiles: boolean) =>
    arr(x, f).map((l, i) => {
      const q = `${f}[${i}]`;
      const o = object(l, q, ['baseURL', 'hashAlgorithm', 'publicKey']);
      const key = parsePublicKey(pem(o.publicKey, `${q}.publicKey`), `${q}.publicKey`);
      const baseUrl = String(o.baseURL ?? '');
      const spki = Buffer.from(spkiDer(key));
      const out: Obj = {
        baseUrl,
        hashAlgorithm: o.hashAlgorithm ?? 'SHA2_256',
        publicKey: {
          rawBytes: spki.toString('base64'),
          keyDetails: keyDetailsOf(key, `${q}.publicKey`),
          validFor: { start: '1970-01-01T00:00:00Z' },
        },
        logId: { keyId: createHash('sha256').update(spki).digest('base64') },
      };
      // A tile log names its checkpoint key by origin (the URL without scheme, as Rekor v2).
      if (tiles)
        out.checkpointKeyId = {
          keyId: Buffer.from(
            noteLogId(baseUrl.replace(/^https?:\/\//, '').replace(/\/+$/, ''), key),
          ).toString('base64'),
        };
      return out;
    });
  try {
    return parseTrustedRoot({
      mediaType: TRUSTED_ROOT_MEDIA_TYPE_V01,
      certificateAuthorities: cas(s.certificateAuthorities, `${p}.certificateAuthorities`),
      tlogs: logs(s.tLogs, `${p}.tLogs`, true),
      ctlogs: logs(s.ctLogs, `${p}.ctLogs`, false),
      timestampAuthorities: cas(s.timestampAuthorities, `${p}.timestampAuthorities`),
    });
  } catch (e) {
    if (e instanceof SignetError && e.field?.startsWith(p)) throw e;
    throw invalid(p, `does not make a valid trust root: ${(e as Error).message}`, e);
  }
}
