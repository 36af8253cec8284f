/**
 * Recorded inputs for `signet policy test`: an artifact (by digest, with the path, name, image
 * reference or commit a policy matches on), the bundles found for it, and the decision expected.
 * `policy verify --record FILE` writes one from a real run, so policy authors can test a policy
 * change in CI against what production saw, offline.
 */
import { bundleToJSON, parseBundle, type Bundle } from '../../bundle/bundle.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import { parseDigest } from '../verify/setup.ts';
import type { Artifact } from '../verify/verifier.ts';
import { evaluate, type Decision, type NoMatchPolicy, type Target } from './engine.ts';
import { bundleEvidence } from './evidence.ts';
import { parseImageReference } from './glob.ts';
import type { Policy } from './types.ts';

export type Expectation = 'allow' | 'deny';

export interface RecordedCase {
  name: string;
  target: Target;
  artifact: Artifact;
  bundles: Array<{ bundle: Bundle; label: string }>;
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

/** Parses one recorded case; errors name the file and the field. */
export function parseRecordedCase(value: unknown, file: string): RecordedCase {
  try {
    const o = object(value, '(case)', ['name', 'artifact', 'bundles', 'expect', 'noMatch']);
    const a = object(o.artifact, 'artifact', [
      'kind',
      'digest',
      'path',
      'name',
      'reference',
      'repository',
      'ref',
      'sha',
    ]);
    const digestText = optStr(a.digest, 'artifact.digest');
    if (digestText === undefined) throw invalid('artifact.digest', 'is required (sha256:<hex>)');
    const artifact = parseDigest(digestText, 'artifact.digest');
    let target: Target;
    if (a.kind === 'blob')
      target = {
        kind: 'blob',
        path: optStr(a.path, 'artifact.path'),
        name: optStr(a.name, 'artifact.name'),
        digest: digestText,
      };
    else if (a.kind === 'image') {
      const ref = parseImageReference(
        optStr(a.reference, 'artifact.reference') ?? '',
        'artifact.reference',
      );
      target = {
        kind: 'image',
        ref,
        digestName: `${ref.registry}/${ref.repository}@${digestText}`,
      };
    } else if (a.kind === 'commit') {
      const repository = optStr(a.repository, 'artifact.repository');
      const sha = optStr(a.sha, 'artifact.sha');
      if (!repository || !sha) throw invalid('artifact', 'a commit needs repository and sha');
      target = { kind: 'commit', repository, ref: optStr(a.ref, 'artifact.ref'), sha };
    } else throw invalid('artifact.kind', 'must be blob, image or commit');
    if (!Array.isArray(o.bundles)) throw invalid('bundles', 'must be a list of bundles');
    const bundles = o.bundles.map((b, i) => {
      try {
        return { bundle: parseBundle(b), label: `bundles[${i}]` };
      } catch (e) {
        throw invalid(`bundles[${i}]`, `is not a valid bundle: ${(e as Error).message}`, e);
      }
    });
    const expect = optStr(o.expect, 'expect');
    if (expect !== undefined && expect !== 'allow' && expect !== 'deny')
      throw invalid('expect', `"${expect}" is not allow or deny`);
    const noMatch = optStr(o.noMatch, 'noMatch');
    if (noMatch !== undefined && !['allow', 'warn', 'deny'].includes(noMatch))
      throw invalid('noMatch', `"${noMatch}" is not allow, warn or deny`);
    return {
      name: optStr(o.name, 'name') ?? file,
      target,
      artifact,
      bundles,
      expect: expect as Expectation | undefined,
      noMatch: noMatch as NoMatchPolicy | undefined,
    };
  } catch (e) {
    if (e instanceof SignetError)
      throw new SignetError(e.kind, 'TEST_CASE_INVALID', `${file}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function runRecordedCase(policies: Policy[], c: RecordedCase): Decision {
  return evaluate(
    policies,
    c.target,
    c.bundles.map((b) => bundleEvidence(b.bundle, c.artifact, b.label)),
    c.noMatch ? { noMatch: c.noMatch } : {},
  );
}

/** The case a run makes (`policy verify --record`), expecting the decision it had. */
export function recordCase(
  name: string,
  target: Target,
  digest: string,
  bundles: Bundle[],
  decision: Decision,
): Record<string, unknown> {
  let artifact: Obj;
  if (target.kind === 'blob')
    artifact = {
      kind: 'blob',
      digest,
      ...(target.path ? { path: target.path } : {}),
      ...(target.name ? { name: target.name } : {}),
    };
  else if (target.kind === 'image')
    artifact = { kind: 'image', digest, reference: target.ref.original };
  else
    artifact = {
      kind: 'commit',
      digest,
      repository: target.repository,
      sha: target.sha,
      ...(target.ref ? { ref: target.ref } : {}),
    };
  return {
    name,
    artifact,
    bundles: bundles.map(bundleToJSON),
    expect: decision.allowed ? 'allow' : 'deny',
  };
}
