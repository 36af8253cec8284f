/**
 * in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md),
 * carried in DSSE with payloadType `application/vnd.in-toto+json`. Statement v0.1 is read too
 * (older attestations in logs still use it); new statements are always v1.
 */
import { invalid, quoteInput } from '../errors.ts';
import { parseJsonText } from '../json.ts';

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export interface Subject {
  name: string;
  /** algorithm name (e.g. `sha256`) -> lowercase hex digest */
  digest: Record<string, string>;
}

export interface Statement {
  type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  subject: Subject[];
  predicateType: string;
  predicate: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The most subjects, and digests a subject, a statement may have (sigstore-go's bounds,
 * pkg/verify/signature.go): a release's provenance names many files, but not without end.
 */
export const MAX_SUBJECTS = 1024;
export const MAX_SUBJECT_DIGESTS = 32;

/** Parse a statement from the DSSE payload bytes. */
export function parseStatement(payload: Uint8Array, path = 'statement'): Statement {
  const value = parseJsonText(payload, path);
  if (!isObject(value)) throw invalid(path, 'must be a JSON object');
  const type = value._type;
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01)
    throw invalid(`${path}._type`, `${quoteInput(type)} is not an in-toto Statement v1`);
  if (!Array.isArray(value.subject) || value.subject.length === 0)
    throw invalid(`${path}.subject`, 'must be a non-empty array');
  if (value.subject.length > MAX_SUBJECTS)
    throw invalid(
      `${path}.subject`,
      `has ${value.subject.length} subjects; at most ${MAX_SUBJECTS} are read`,
    );
  const subject = value.subject.map((s: unknown, i: number): Subject => {
    const p = `${path}.subject[${i}]`;
    if (!isObject(s)) throw invalid(p, 'must be a JSON object');
    const name = s.name ?? '';
    if (typeof name !== 'string') throw invalid(`${p}.name`, 'must be a string');
    if (!isObject(s.digest) || Object.keys(s.digest).length === 0)
      throw invalid(`${p}.digest`, 'must be a non-empty object of algorithm -> hex digest');
    if (Object.keys(s.digest).length > MAX_SUBJECT_DIGESTS)
      throw invalid(`${p}.digest`, `has more than ${MAX_SUBJECT_DIGESTS} digests`);
    const digest: Record<string, string> = {};
    for (const [alg, hex] of Object.entries(s.digest)) {
      if (typeof hex !== 'string' || !/^[0-9a-fA-F]+$/.test(hex))
        throw invalid(`${p}.digest.${alg}`, 'must be a hex string');
      digest[alg] = hex.toLowerCase();
    }
    return { name, digest };
  });
  const predicateType = value.predicateType;
  if (typeof predicateType !== 'string' || predicateType === '')
    throw invalid(`${path}.predicateType`, 'must be a non-empty string');
  return { type, subject, predicateType, predicate: value.predicate ?? null };
}

/**
 * A Statement v1 about `subject`, serialised as the DSSE payload. A subject without a name (a
 * git commit, known by its ID alone) is written without one.
 */
export function buildStatement(
  subject: ReadonlyArray<Pick<Subject, 'digest'> & { name?: string }>,
  predicateType: string,
  predicate: unknown,
): Uint8Array {
  if (subject.length === 0) throw invalid('subject', 'a statement needs at least one subject');
  const statement = { _type: STATEMENT_V1, subject, predicateType, predicate };
  return new TextEncoder().encode(JSON.stringify(statement));
}

/**
 * The subjects whose `algorithm` digest equals `hexDigest` (compared exactly, lowercase hex).
 * An attestation is about an artifact only when at least one subject matches.
 */
export function subjectsMatching(
  statement: Statement,
  algorithm: string,
  hexDigest: string,
): Subject[] {
  const want = hexDigest.toLowerCase();
  return statement.subject.filter((s) => s.digest[algorithm] === want);
}
