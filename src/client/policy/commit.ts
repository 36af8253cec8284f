/**
 * Policy decisions about git commits (and annotated tags): each object of a range is read with
 * git, its signature bound to its content, the transparency log searched once for gitsign
 * online-mode signatures, and the signature becomes evidence the engine verifies under each
 * authority through client/git (the CMS <-> bundle mapping over the one verifier).
 * A commit is matched by its repository (e.g. `github.com/org/repo`) and the ref being checked.
 */
import { invalid, verificationFailed } from '../../core/errors.ts';
import { splitCommit, splitTag, type SignedObjectType } from '../../core/git/object.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import { commitsOf, git, readObjects, resolveObject } from '../git/repo.ts';
import {
  searchOnlineEntry,
  verifyGitSignatureWithEntry,
  type LogSearch,
  type OnlineSearch,
} from '../git/verify.ts';
import { evaluate, type Decision, type EvaluateOptions, type Evidence } from './engine.ts';
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

/** Evidence from one raw signed object. */
export async function objectEvidence(
  type: SignedObjectType,
  id: string,
  raw: Uint8Array,
  search: LogSearch | undefined,
): Promise<Evidence[]> {
  const { payload, signature } = type === 'commit' ? splitCommit(raw) : splitTag(raw);
  if (!signature) return [];
  let found: OnlineSearch;
  try {
    found = await searchOnlineEntry(payload, signature, id, search);
  } catch (e) {
    // Unreadable or not bound to the content: a signature that cannot count, with its reason.
    return [
      {
        kind: 'signature',
        label: `${type} ${id.slice(0, 12)}`,
        verify: () => {
          throw e;
        },
      },
    ];
  }
  return [
    {
      kind: 'signature',
      label: `${type} ${id.slice(0, 12)}`,
      verify: (policy, root: TrustedRoot) =>
        verifyGitSignatureWithEntry(payload, signature, id, found, root, policy).verification,
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
    tip = o.tag.startsWith('refs/') ? o.tag : `refs/tags/${o.tag}`;
  } else if (o.range !== undefined) {
    ids = await commitsOf(o.repoDir, o.range);
    if (ids.length === 0) throw invalid('--commits', `${o.range} holds no commits`);
    tip = o.range.includes('..') ? o.range.slice(o.range.lastIndexOf('..') + 2) || 'HEAD' : o.range;
  } else {
    tip = o.revision ?? 'HEAD';
    ids = [await resolveObject(o.repoDir, tip, 'commit')];
  }
  const ref = o.tag !== undefined ? (o.ref ?? tip) : await refOf(o.repoDir, tip, o.ref);
  const out: Decision[] = [];
  for await (const obj of readObjects(o.repoDir, ids)) {
    const evidence = await objectEvidence(type, obj.id, obj.raw, o.search);
    const d = evaluate(policies, { kind: 'commit', repository, ref, sha: obj.id }, evidence, {
      ...(o.noMatch ? { noMatch: o.noMatch } : {}),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
    });
    out.push(d);
  }
  if (out.length === 0)
    throw verificationFailed('NO_SUCH_OBJECT', `nothing to verify in ${o.range ?? tip}`);
  return out;
}
