/**
 * Recorded inputs for `signet policy test`: an artifact (a file by digest, an image, or a git
 * commit or tag), everything that was verified about it, the trusted root it was verified
 * against, and the decision expected. `policy verify --record FILE` writes them from a real run;
 * a case is self-contained, so policy authors can test a policy change in CI, offline, against
 * what production saw:
 *  - file: the bundles;
 *  - image: what the registry gave (each signature repository's attachments: bundle, legacy
 *    payload, location; the unreadable candidates with their reasons), or why it gave nothing;
 *  - commit/tag: the raw git object (bound to its ID when read back) and what the log search
 *    found for a gitsign online-mode signature.
 * Evidence is rebuilt through the same functions a live run uses (imageEvidence,
 * objectEvidence, bundleEvidence), so a replay verifies exactly as the run did.
 */
import { bundleToJSON, parseBundle, type Bundle } from '../../bundle/bundle.ts';
import {
  parseTrustedRoot,
  trustedRootToJSON,
  type TrustedRoot,
} from '../../bundle/trusted-root.ts';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import type { SignedObjectType } from '../../core/git/object.ts';
import { parseDigest as parseOciDigest } from '../../core/oci/digest.ts';
import type { TlogEntryProtoJson } from '../../core/rekor/entry-proto.ts';
import type { Attachment, Rejected } from '../oci/discover.ts';
import { parseDigest } from '../verify/setup.ts';
import { gatherObject, objectEvidence, type ObjectGathered } from './commit.ts';
import {
  evaluate,
  unavailableEvidence,
  type Decision,
  type Evidence,
  type NoMatchPolicy,
  type Target,
} from './engine.ts';
import { bundleEvidence } from './evidence.ts';
import { parseImageReference } from './glob.ts';
import { imageEvidence, type GatheredImage, type GatheredSource } from './image.ts';
import type { Policy } from './types.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

export type Expectation = 'allow' | 'deny';

export interface RecordedCase {
  name: string;
  target: Target;
  evidence: Evidence[];
  /** The trusted root the run used for authorities that name none (absent: give one). */
  trustedRoot: { root: TrustedRoot; key: string } | undefined;
  expect: Expectation | undefined;
  noMatch: NoMatchPolicy | undefined;
}

type Obj = Record<string, unknown>;

function object(v: unknown, p: string, known: string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(p, 'must be a JSON object');
  for (const k of Object.keys(v))
    if (!known.includes(k)) throw invalid(`${p}.${k}`, 'is not a known field');
  return v as Obj;
}

function optStr(v: unknown, p: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(p, 'must be a string');
  return v;
}

function str(v: unknown, p: string): string {
  const s = optStr(v, p);
  if (s === undefined || s === '') throw invalid(p, 'is required');
  return s;
}

function list(v: unknown, p: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(p, 'must be a list');
  return v;
}

function bundleAt(v: unknown, p: string): Bundle {
  try {
    return parseBundle(v);
  } catch (e) {
    throw invalid(p, `is not a valid bundle: ${(e as Error).message}`, e);
  }
}

/** What the registry gave, as recorded: the evidence, and the image's configs if recorded. */
function imageSources(
  v: unknown,
  digest: string | undefined,
  p: string,
): { evidence: Evidence[]; configs: Record<string, unknown> | undefined } {
  const o = object(v, p, ['sources', 'unavailable', 'configs']);
  const unavailable = optStr(o.unavailable, `${p}.unavailable`);
  if (unavailable !== undefined)
    return {
      evidence: unavailableEvidence(
        'registry',
        new SignetError('unavailable', 'SERVICE_UNREACHABLE', unavailable),
      ),
      configs: undefined,
    };
  // Config files by platform: any JSON object (what the image's config holds is not ours).
  if (
    o.configs !== undefined &&
    (typeof o.configs !== 'object' || o.configs === null || Array.isArray(o.configs))
  )
    throw invalid(`${p}.configs`, 'must be a JSON object of platform -> config file');
  const configs = o.configs as Record<string, unknown> | undefined;
  if (digest === undefined) throw invalid('artifact.digest', 'is required (sha256:<hex>)');
  const sources: GatheredSource[] = list(o.sources, `${p}.sources`).map((s, i) => {
    const sp = `${p}.sources[${i}]`;
    const so = object(s, sp, ['origin', 'attachments', 'unreadable']);
    const attachments: Attachment[] = list(so.attachments, `${sp}.attachments`).map((a, j) => {
      const ap = `${sp}.attachments[${j}]`;
      const ao = object(a, ap, [
        'kind',
        'location',
        'scheme',
        'bundle',
        'payload',
        'predicateType',
        'manifest',
      ]);
      if (ao.kind !== 'signature' && ao.kind !== 'attestation')
        throw invalid(`${ap}.kind`, 'must be signature or attestation');
      if (ao.scheme !== 'referrer' && ao.scheme !== 'legacy')
        throw invalid(`${ap}.scheme`, 'must be referrer or legacy');
      const payload = optStr(ao.payload, `${ap}.payload`);
      const predicateType = optStr(ao.predicateType, `${ap}.predicateType`);
      return {
        kind: ao.kind,
        scheme: ao.scheme,
        location: str(ao.location, `${ap}.location`),
        manifest: str(ao.manifest, `${ap}.manifest`),
        bundle: bundleAt(ao.bundle, `${ap}.bundle`),
        ...(payload !== undefined ? { payload: fromBase64(payload, `${ap}.payload`) } : {}),
        ...(predicateType !== undefined ? { predicateType } : {}),
      };
    });
    const unreadable: Rejected[] = list(so.unreadable, `${sp}.unreadable`).map((u, j) => {
      const uo = object(u, `${sp}.unreadable[${j}]`, ['location', 'reason']);
      return {
        location: str(uo.location, `${sp}.unreadable[${j}].location`),
        reason: str(uo.reason, `${sp}.unreadable[${j}].reason`),
      };
    });
    return { origin: optStr(so.origin, `${sp}.origin`), attachments, unreadable };
  });
  return {
    evidence: imageEvidence({ digest: parseOciDigest(digest, 'artifact.digest'), sources }),
    configs,
  };
}

/** The git object ID of `raw` (SHA-1, or SHA-256 for a 64-hex ID). */
function gitObjectId(type: SignedObjectType, raw: Uint8Array, like: string): string {
  return createHash(like.length === 64 ? 'sha256' : 'sha1')
    .update(`${type} ${raw.length}\0`)
    .update(raw)
    .digest('hex');
}

/** A recorded git object's type: `artifact.objectType`, commit unless it says tag. */
function objectTypeOf(a: Obj): SignedObjectType {
  const type = optStr(a.objectType, 'artifact.objectType') ?? 'commit';
  if (type !== 'commit' && type !== 'tag')
    throw invalid('artifact.objectType', 'must be commit or tag');
  return type;
}

async function commitEvidence(a: Obj, type: SignedObjectType, sha: string): Promise<Evidence[]> {
  const raw = fromBase64(str(a.object, 'artifact.object'), 'artifact.object');
  const id = gitObjectId(type, raw, sha);
  if (id !== sha)
    throw invalid(
      'artifact.object',
      `is not the recorded ${type}: its object ID is ${id}, not ${sha}`,
    );
  // The log search as it went: its entry, its failure, or not made (embedded entry, --offline).
  let search;
  if (a.logSearch !== undefined) {
    const ls = object(a.logSearch, 'artifact.logSearch', ['entry', 'error']);
    const error = optStr(ls.error, 'artifact.logSearch.error');
    if (
      ls.entry !== undefined &&
      (typeof ls.entry !== 'object' || ls.entry === null || Array.isArray(ls.entry))
    )
      throw invalid('artifact.logSearch.entry', 'must be a transparency log entry (a JSON object)');
    const entry = ls.entry as TlogEntryProtoJson | undefined;
    search = async () => {
      if (error !== undefined) throw new SignetError('unavailable', 'SERVICE_UNREACHABLE', error);
      return entry ? [entry] : [];
    };
  }
  return objectEvidence(await gatherObject(type, sha, raw, search));
}

/** Parses one recorded case; errors name the file and the field. */
export async function parseRecordedCase(value: unknown, file: string): Promise<RecordedCase> {
  try {
    const o = object(value, '(case)', [
      'name',
      'artifact',
      'bundles',
      'image',
      'trustedRoot',
      'expect',
      'noMatch',
    ]);
    const a = object(o.artifact, 'artifact', [
      'kind',
      'digest',
      'path',
      'name',
      'reference',
      'repository',
      'ref',
      'sha',
      'objectType',
      'object',
      'logSearch',
    ]);
    const digestText = optStr(a.digest, 'artifact.digest');
    let target: Target;
    let evidence: Evidence[];
    if (a.kind === 'blob') {
      if (digestText === undefined) throw invalid('artifact.digest', 'is required (sha256:<hex>)');
      const artifact = parseDigest(digestText, 'artifact.digest');
      target = {
        kind: 'blob',
        path: optStr(a.path, 'artifact.path'),
        name: optStr(a.name, 'artifact.name'),
        digest: digestText,
      };
      if (!Array.isArray(o.bundles)) throw invalid('bundles', 'must be a list of bundles');
      evidence = o.bundles.map((b, i) =>
        bundleEvidence(bundleAt(b, `bundles[${i}]`), artifact, `bundles[${i}]`),
      );
    } else if (a.kind === 'image') {
      const ref = parseImageReference(str(a.reference, 'artifact.reference'), 'artifact.reference');
      if (o.image === undefined) throw invalid('image', 'is required: what the registry gave');
      const recorded = imageSources(o.image, digestText, 'image');
      evidence = recorded.evidence;
      target = {
        kind: 'image',
        ref,
        ...(digestText !== undefined
          ? { digestName: `${ref.registry}/${ref.repository}@${digestText}` }
          : {}),
        ...(recorded.configs !== undefined ? { configs: recorded.configs } : {}),
      };
    } else if (a.kind === 'commit') {
      const repository = str(a.repository, 'artifact.repository');
      const sha = str(a.sha, 'artifact.sha');
      if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha))
        throw invalid('artifact.sha', `"${sha}" is not a git object ID`);
      // A git object, commit or tag, is recorded as kind commit; objectType says which.
      const type = objectTypeOf(a);
      target = { kind: type, repository, ref: optStr(a.ref, 'artifact.ref'), sha };
      evidence = await commitEvidence(a, type, sha);
    } else throw invalid('artifact.kind', 'must be blob, image or commit');
    let trustedRoot: RecordedCase['trustedRoot'];
    if (o.trustedRoot !== undefined) {
      try {
        trustedRoot = { root: parseTrustedRoot(o.trustedRoot), key: JSON.stringify(o.trustedRoot) };
      } catch (e) {
        throw invalid('trustedRoot', `is not a trusted root: ${(e as Error).message}`, e);
      }
    }
    const expect = optStr(o.expect, 'expect');
    if (expect !== undefined && expect !== 'allow' && expect !== 'deny')
      throw invalid('expect', `"${expect}" is not allow or deny`);
    const noMatch = optStr(o.noMatch, 'noMatch');
    if (noMatch !== undefined && !['allow', 'warn', 'deny'].includes(noMatch))
      throw invalid('noMatch', `"${noMatch}" is not allow, warn or deny`);
    return {
      name: optStr(o.name, 'name') ?? file,
      target,
      evidence,
      trustedRoot,
      expect: expect as Expectation | undefined,
      noMatch: noMatch as NoMatchPolicy | undefined,
    };
  } catch (e) {
    if (e instanceof SignetError)
      throw new SignetError(e.kind, 'TEST_CASE_INVALID', `${file}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** A case file holds one case, or a list of them (a commit range records one per commit). */
export async function parseRecordedCases(value: unknown, file: string): Promise<RecordedCase[]> {
  if (!Array.isArray(value)) return [await parseRecordedCase(value, file)];
  if (value.length === 0)
    throw new SignetError('invalid-input', 'TEST_CASE_INVALID', `${file}: holds no cases`);
  const out: RecordedCase[] = [];
  for (const [i, v] of value.entries()) out.push(await parseRecordedCase(v, `${file}[${i}]`));
  return out;
}

export function runRecordedCase(
  policies: Policy[],
  c: RecordedCase,
  deadline?: number,
): Promise<Decision> {
  return evaluate(policies, c.target, c.evidence, {
    ...(c.noMatch ? { noMatch: c.noMatch } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
  });
}

/** What a run verified, by kind of artifact. */
export type RecordedMaterial =
  | { kind: 'blob'; digest: string; bundles: Bundle[] }
  | { kind: 'image'; gathered: GatheredImage | { unavailable: string } }
  | { kind: 'git'; gathered: ObjectGathered };

function imageJSON(g: GatheredImage | { unavailable: string }): Obj {
  if ('unavailable' in g) return { unavailable: g.unavailable };
  return {
    sources: g.sources.map((s) => ({
      ...(s.origin !== undefined ? { origin: s.origin } : {}),
      attachments: s.attachments.map((a) => ({
        kind: a.kind,
        location: a.location,
        scheme: a.scheme,
        manifest: a.manifest,
        ...(a.predicateType !== undefined ? { predicateType: a.predicateType } : {}),
        ...(a.payload !== undefined ? { payload: toBase64(a.payload) } : {}),
        bundle: bundleToJSON(a.bundle),
      })),
      unreadable: s.unreadable.map((u) => ({ location: u.location, reason: u.reason })),
    })),
    ...(g.configs !== undefined ? { configs: g.configs } : {}),
  };
}

/** The case a run makes (`policy verify --record`), expecting the decision it had. */
export function recordCase(
  name: string,
  target: Target,
  material: RecordedMaterial,
  decision: Decision,
  trustedRoot: TrustedRoot | undefined,
): Record<string, unknown> {
  const out: Obj = { name };
  if (target.kind === 'blob' && material.kind === 'blob') {
    out.artifact = {
      kind: 'blob',
      digest: material.digest,
      ...(target.path ? { path: target.path } : {}),
      ...(target.name ? { name: target.name } : {}),
    };
    out.bundles = material.bundles.map(bundleToJSON);
  } else if (target.kind === 'image' && material.kind === 'image') {
    const g = material.gathered;
    out.artifact = {
      kind: 'image',
      reference: target.ref.original,
      ...('digest' in g ? { digest: g.digest.text } : {}),
    };
    out.image = imageJSON(g);
  } else if ((target.kind === 'commit' || target.kind === 'tag') && material.kind === 'git') {
    const g = material.gathered;
    const found = 'found' in g ? g.found : undefined;
    out.artifact = {
      kind: 'commit',
      repository: target.repository,
      ...(target.ref ? { ref: target.ref } : {}),
      sha: target.sha,
      objectType: g.type,
      object: toBase64(g.raw),
      ...(found?.searched
        ? {
            logSearch: found.error
              ? { error: (found.error as Error).message ?? String(found.error) }
              : found.entry
                ? { entry: found.entry }
                : {},
          }
        : {}),
    };
  } else throw new Error(`recordCase: a ${target.kind} target with ${material.kind} material`);
  if (trustedRoot) out.trustedRoot = trustedRootToJSON(trustedRoot);
  out.expect = decision.allowed ? 'allow' : 'deny';
  return out;
}
