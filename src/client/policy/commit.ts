/**
 * Policy decisions about git commits (and annotated tags): each object of a range is read with
 * git, its signature bound to its content, the transparency log searched once for gitsign
 * online-mode signatures, and the signature becomes evidence the engine verifies under each
 * authority through client/git (the CMS <-> bundle mapping over the one verifier).
 * A commit is matched by its repository (e.g. `github.com/org/repo`) and the ref being checked.
 */
import { invalid, verificationFailed } from '../../core/errors.ts';
import {
  objectFormatOfId,
  splitCommit,
  splitTag,
  type SignedObjectType,
} from '../../core/git/object.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import { commitsOf, git, readObjects, resolveObject, signedTagName } from '../git/repo.ts';
import {
  searchOnlineEntry,
  verifyGitSignatureWithEntry,
  type LogSearch,
  type OnlineSearch,
} from '../git/verify.ts';
import {
  evaluate,
  type Decision,
  type EvaluateOptions,
  type Evidence,
  type Target,
} from './engine.ts';
import type { Policy } from './types.ts';

/**
 * A remote URL as a repository name: `https://github.com/org/repo.git`,
 * `git@github.com:org/repo.git` and `ssh://git@github.com/org/repo` are `github.com/org/repo`.
 */
export function repositoryName(remote: string): string {
  let r = remote.trim();
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(r);
  if (scp) r = `${scp[1]}/${scp[2]}`;
  else r = r.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^[^@/]+@/, '');
  return r.replace(/\.git$/, '').replace(/\/+$/, '');
}

/** The repository's name from `--repository`, else its `origin` remote, else its folder. */
export async function gitRepositoryOf(repoDir: string, given: string | undefined): Promise<string> {
  if (given !== undefined) {
    if (given === '') throw invalid('--repository', 'must not be empty');
    return repositoryName(given);
  }
  const url = await git(repoDir, ['remote', 'get-url', 'origin']).then(
    (b) => b.toString().trim(),
    () => '',
  );
  if (url === '')
    throw invalid(
      '--repository',
      'is required: the repository has no origin remote to name it (e.g. --repository github.com/org/repo)',
    );
  return repositoryName(url);
}

/** The ref being checked: `--ref`, else the full name the revision has (`refs/heads/main`). */
export async function refOf(
  repoDir: string,
  rev: string,
  given: string | undefined,
): Promise<string | undefined> {
  if (given !== undefined) return given;
  const name = await git(repoDir, ['rev-parse', '--symbolic-full-name', rev]).then(
    (b) => b.toString().trim(),
    () => '',
  );
  return name.startsWith('refs/') ? name : undefined;
}

/** What one signed object gave: enough to decide again offline (policy test). */
export interface GatheredObject {
  type: SignedObjectType;
  /** The object ID (SHA-1 hex, or SHA-256 in a SHA-256 repository). */
  id: string;
  /** The raw object as git stores it. */
  raw: Uint8Array;
  /** What the log search found for an online-mode signature (gitsign). */
  found: OnlineSearch;
}

/** An object whose signature cannot be read or is not bound to its content. */
export interface UnreadableObject {
  type: SignedObjectType;
  id: string;
  raw: Uint8Array;
  error: unknown;
}

export type ObjectGathered = GatheredObject | UnreadableObject;

/** Reads the signature and searches the log for it (the I/O half). */
export async function gatherObject(
  type: SignedObjectType,
  id: string,
  raw: Uint8Array,
  search: LogSearch | undefined,
): Promise<ObjectGathered> {
  const { payload, signature } =
    type === 'commit' ? splitCommit(raw, objectFormatOfId(id)) : splitTag(raw);
  if (!signature)
    return { type, id, raw, found: { entry: undefined, searched: false, error: undefined } };
  try {
    return { type, id, raw, found: await searchOnlineEntry(payload, signature, id, search) };
  } catch (e) {
    // Unreadable or not bound to the content: a signature that cannot count, with its reason.
    return { type, id, raw, error: e };
  }
}

/** The engine's evidence from one object (live or recorded): the pure half. */
export function objectEvidence(g: ObjectGathered): Evidence[] {
  const { payload, signature } =
    g.type === 'commit' ? splitCommit(g.raw, objectFormatOfId(g.id)) : splitTag(g.raw);
  if (!signature) return [];
  const label = `${g.type} ${g.id.slice(0, 12)}`;
  if ('error' in g)
    return [
      {
        kind: 'signature',
        label,
        verify: () => {
          throw g.error;
        },
      },
    ];
  return [
    {
      kind: 'signature',
      label,
      verify: (policy, root: TrustedRoot) =>
        verifyGitSignatureWithEntry(payload, signature, g.id, g.found, root, policy).verification,
    },
  ];
}

export interface CommitDecisionOptions {
  repoDir: string;
  /** `A..B`, or one revision. */
  range?: string;
  revision?: string;
  /** An annotated tag instead of commits. */
  tag?: string;
  repository?: string;
  ref?: string;
  search?: LogSearch;
  noMatch?: EvaluateOptions['noMatch'];
  /** Epoch ms by which every decision is made (log searches, verification, conditions). */
  deadline?: number;
  /** Told what each object gave, for `policy verify --record`. */
  gathered?: (target: Target, g: ObjectGathered) => void;
}

/** One decision per commit of the range (or for the one revision or tag). */
export async function decideCommits(
  policies: Policy[],
  o: CommitDecisionOptions,
): Promise<Decision[]> {
  const repository = await gitRepositoryOf(o.repoDir, o.repository);
  const type: SignedObjectType = o.tag !== undefined ? 'tag' : 'commit';
  let ids: string[];
  let tip: string;
  if (o.tag !== undefined) {
    ids = [await resolveObject(o.repoDir, o.tag, 'tag')];
    tip = o.tag;
  } else if (o.range !== undefined) {
    ids = await commitsOf(o.repoDir, o.range);
    if (ids.length === 0) throw invalid('--commits', `${o.range} holds no commits`);
    tip = o.range.includes('..') ? o.range.slice(o.range.lastIndexOf('..') + 2) || 'HEAD' : o.range;
  } else {
    tip = o.revision ?? 'HEAD';
    ids = [await resolveObject(o.repoDir, tip, 'commit')];
  }
  const commitsRef = o.tag === undefined ? await refOf(o.repoDir, tip, o.ref) : undefined;
  const out: Decision[] = [];
  for await (const obj of readObjects(o.repoDir, ids)) {
    // A tag's ref is the name it was signed under (and the one it is reached by, which must
    // agree, --ref or not): a tag ref moved to another release's tag is refused.
    const ref =
      o.tag === undefined
        ? commitsRef
        : await signedTagName(o.repoDir, o.tag, obj.raw).then((n) => o.ref ?? `refs/tags/${n}`);
    const g = await gatherObject(type, obj.id, obj.raw, o.search);
    const target: Target = { kind: type, repository, ref, sha: obj.id };
    o.gathered?.(target, g);
    const d = await evaluate(policies, target, objectEvidence(g), {
      ...(o.noMatch ? { noMatch: o.noMatch } : {}),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
    });
    out.push(d);
  }
  if (out.length === 0)
    throw verificationFailed('NO_SUCH_OBJECT', `nothing to verify in ${o.range ?? tip}`);
  return out;
}
