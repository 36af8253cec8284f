/**
 * The library API for signed commits and tags (used by `signet verify-commit`, `verify-tag`,
 * the git program and policy verification): read the object from the repository with git,
 * split it into payload and signature exactly as git does, and verify (client/git/verify.ts).
 */
import { SignetError, verificationFailed } from '../../core/errors.ts';
import {
  objectFormatOfId,
  splitCommit,
  splitTag,
  type SignedObjectType,
} from '../../core/git/object.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import type { SignerPolicy } from '../verify/verifier.ts';
import { trimSlash, type HttpOptions } from '../../services/http/outbound.ts';
import { entriesByIdV1, MAX_RETRIEVE_V1, searchEntryIdsV1 } from '../http/rekor-v1.ts';
import type { TlogEntryProtoJson } from '../../core/rekor/entry-proto.ts';
import { commitsOf, readObjects, resolveObject, signedTagName } from './repo.ts';
import {
  type GitVerification,
  type GitVerifyOptions,
  type LogSearch,
  verifyGitSignature,
  verifyGitSignatureOnline,
} from './verify.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

export interface GitTrust {
  trustedRoot: TrustedRoot;
  /** Who must have signed (verify-blob's identity flags); ANY_IDENTITY for git's own checks. */
  policy: SignerPolicy;
  /** Accept timestamp-only signatures (no transparency log), marked as such in the result. */
  allowNoTlog?: boolean;
  /** Search the log for gitsign online-mode entries; without it verification is offline. */
  search?: LogSearch;
  /** Witness cosignatures the log checkpoint must carry; accept certificates without an SCT. */
  witnesses?: GitVerifyOptions['witnesses'];
  ignoreSct?: boolean;
}

export interface ObjectVerification extends GitVerification {
  /** The commit or tag object ID. */
  id: string;
  type: SignedObjectType;
}

export type RangeItem =
  | { id: string; ok: true; result: ObjectVerification }
  | { id: string; ok: false; error: SignetError };

/** Verifies one raw object: unsigned objects fail with NOT_SIGNED. */
export async function verifyRawObject(
  type: SignedObjectType,
  id: string,
  raw: Uint8Array,
  trust: GitTrust,
): Promise<ObjectVerification> {
  const { payload, signature } =
    type === 'commit' ? splitCommit(raw, objectFormatOfId(id)) : splitTag(raw);
  if (!signature) throw verificationFailed('NOT_SIGNED', `${type} ${id} is not signed`);
  const opts: GitVerifyOptions = {
    ...(trust.allowNoTlog ? { allowNoTlog: true } : {}),
    ...(trust.witnesses ? { witnesses: trust.witnesses } : {}),
    ...(trust.ignoreSct ? { ignoreSct: true } : {}),
  };
  const r = trust.search
    ? await verifyGitSignatureOnline(
        payload,
        signature,
        id,
        trust.trustedRoot,
        trust.policy,
        trust.search,
        opts,
      )
    : verifyGitSignature(payload, signature, trust.trustedRoot, trust.policy, opts);
  return { ...r, id, type };
}

async function verifyNamed(
  repoDir: string,
  rev: string,
  type: SignedObjectType,
  trust: GitTrust,
): Promise<ObjectVerification> {
  const id = await resolveObject(repoDir, rev, type);
  for await (const o of readObjects(repoDir, [id])) {
    if (type === 'tag') await signedTagName(repoDir, rev, o.raw);
    return verifyRawObject(type, id, o.raw, trust);
  }
  throw new SignetError('not-found', 'NO_SUCH_OBJECT', `${type} ${rev} could not be read`);
}

/** Verifies the signature of the commit `rev` names (default HEAD). */
export function verifyCommit(
  repoDir: string,
  rev: string,
  trust: GitTrust,
): Promise<ObjectVerification> {
  return verifyNamed(repoDir, rev, 'commit', trust);
}

/** Verifies the signature of the annotated tag `tag`. */
export function verifyTag(
  repoDir: string,
  tag: string,
  trust: GitTrust,
): Promise<ObjectVerification> {
  return verifyNamed(repoDir, tag, 'tag', trust);
}

/**
 * Every commit of a range (`A..B`), oldest first: one result per commit, a failure for one
 * commit does not stop the others.
 */
export async function* verifyCommitRange(
  repoDir: string,
  range: string,
  trust: GitTrust,
): AsyncGenerator<RangeItem> {
  const ids = await commitsOf(repoDir, range);
  for await (const o of readObjects(repoDir, ids)) {
    try {
      yield { id: o.id, ok: true, result: await verifyRawObject('commit', o.id, o.raw, trust) };
    } catch (e) {
      if (!(e instanceof SignetError)) throw e;
      yield { id: o.id, ok: false, error: e };
    }
  }
}

/**
 * A Rekor v1 index search (artifact or payload digest, and the signer when known): the entries
 * found, a page (at most MAX_RETRIEVE_V1) at a time, so a caller stops asking once it has
 * found its entry.
 */
export type EntrySearch = (query: {
  hash: string;
  verifierPem?: string;
}) => AsyncIterable<TlogEntryProtoJson[]>;

/**
 * The most entries read from one log for one search. Anyone can log a public payload again
 * (signed by themselves), so an entry is looked for among all those listed, not the first few;
 * this bounds what such copies can make a verifier fetch.
 */
export const MAX_SEARCHED_ENTRIES = 1000;

/**
 * The Rekor v1 search of every log that may hold an entry: the Rekor v1 URLs given (a Signet
 * stack serves its v1 API at `<server>/rekor`) and every log of the trusted root with a base
 * URL, each in turn, every entry listed (up to `limit` a log). What is found is only a
 * candidate: the verifier checks it against the trusted root like any entry. Once the caller
 * has read every page, it is told why more could not be read: a log that failed midway, more
 * entries than `limit` (TLOG_SEARCH_TOO_MANY), or no log answering.
 */
export function trustedLogSearch(
  trustedRoot: TrustedRoot,
  http: HttpOptions = {},
  rekorUrls: string[] = [],
  limit = MAX_SEARCHED_ENTRIES,
): EntrySearch {
  const bases = [
    ...new Set(
      [...rekorUrls, ...trustedRoot.tlogs.map((l) => l.baseUrl)].filter((u) => u).map(trimSlash),
    ),
  ];
  return async function* (query) {
    let lastError: unknown;
    let answered = false;
    let unread: unknown;
    for (const base of bases) {
      let ids: string[];
      try {
        ids = await searchEntryIdsV1(base, query, http);
        answered = true;
      } catch (e) {
        lastError = e;
        continue;
      }
      const n = Math.min(ids.length, limit);
      for (let i = 0; i < n; i += MAX_RETRIEVE_V1) {
        let page: TlogEntryProtoJson[];
        try {
          page = await entriesByIdV1(base, ids.slice(i, Math.min(i + MAX_RETRIEVE_V1, n)), http);
        } catch (e) {
          unread ??= e; // one of those not read may have been the entry: said at the end
          break;
        }
        yield page;
      }
      if (ids.length > limit)
        unread ??= new SignetError(
          'verification',
          'TLOG_SEARCH_TOO_MANY',
          `the log at ${base} lists ${ids.length} entries for ${query.hash}; the first ${limit} were read`,
          { details: { log: base, listed: ids.length, read: limit } },
        );
    }
    if (unread !== undefined) throw unread;
    // A log without the v1 search API (e.g. Rekor v2) is not an error when another answered.
    if (lastError !== undefined && !answered) throw lastError;
  };
}

/**
 * Rekor v1 search for gitsign's online entries: hashedrekord over SHA-256(object ID) by the
 * certificate (gitsign pkg/rekor: index search by public key, then match the hash), through
 * `search` (trustedLogSearch).
 */
export function gitsignEntrySearch(search: EntrySearch): LogSearch {
  return async (objectId, certificatePem) => {
    // The first entries found: only this signer can have logged them.
    for await (const page of search({
      hash: `sha256:${createHash('sha256').update(objectId).digest('hex')}`,
      verifierPem: certificatePem,
    }))
      if (page.length > 0) return page;
    return [];
  };
}

/** gitsign's online-entry search in the logs trustedLogSearch asks. */
export function rekorSearch(
  trustedRoot: TrustedRoot,
  http: HttpOptions = {},
  rekorUrls: string[] = [],
): LogSearch {
  return gitsignEntrySearch(trustedLogSearch(trustedRoot, http, rekorUrls));
}
