import { invalid } from '../../core/errors.ts';
import { identitySearchKey } from '../../core/rekor/index.ts';
import { gitCommitSearchKey } from '../../core/rekor/subject-keys.ts';
import { MAX_SEARCH_KEY, MAX_STORED_KEY_BYTES } from '../../log/index.ts';
import { hashKey } from '../rekor/search.ts';

/**
 * A search term typed into the explorer, read once into what it asks for. The shapes people
 * paste: a log index (`12`), an entry UUID (64 hex) or Rekor v1 entry ID (80 hex: tree ID +
 * UUID), an artifact digest (`sha256:<hex>`, or bare 64 hex), a public-key or certificate
 * fingerprint (64 hex: SHA-256 of the SPKI or of the certificate DER, as the entry page shows
 * them), a git commit ID (40 hex, or 64 in a SHA-256 repository, or `gitCommit:<hex>` as
 * an entry page links a statement's subject), an email or other identity (a certificate SAN:
 * `a@b.c`, `https://github.com/...`), and `issuer:<url>` for everything one identity provider
 * vouched for.
 *
 * 64 hex digits are all of digest, fingerprint, UUID and commit ID at once, 40 both a SHA-1
 * digest and a commit ID: the search tries each.
 *
 * An identity is matched exactly, spaces and all: a SAN may hold them (an email SAN in its
 * display form `Jane Doe <jane@example.com>`, a URI, a username), and the index keys the SAN as
 * the certificate carries it (core/rekor identitySearchKey). Spaces around a term are pasting
 * noise and are dropped, unless the SAN itself has them (its entry page links it as it is).
 */
export type SearchQuery =
  | { kind: 'index'; index: number }
  | { kind: 'entryId'; uuid: string; treeId: bigint }
  /** 64 hex: an entry UUID, an artifact digest, a key or certificate fingerprint, or a commit ID. */
  | { kind: 'hex'; hex: string }
  /**
   * A git commit ID (40 hex, or 64 in a SHA-256 repository): its search key, and for bare 40
   * hex, which is a SHA-1 digest's form too, that digest's.
   */
  | { kind: 'commit'; keys: string[] }
  /** A digest with its algorithm (`sha256:...`), as the log's search key; a SHA-256 one may be a fingerprint. */
  | { kind: 'digest'; key: string }
  /** `asGiven`: the term with its surrounding spaces, when it had any (a SAN may too). */
  | { kind: 'identity'; identity: string; asGiven?: string }
  | { kind: 'issuer'; issuer: string };

/** The longest identity the index keeps, in characters and in UTF-8 bytes (log/search-key.ts). */
export const MAX_TERM_LENGTH = MAX_SEARCH_KEY - identitySearchKey('').length;
export const MAX_TERM_BYTES = MAX_STORED_KEY_BYTES - identitySearchKey('').length;

const SHAPES =
  'give a log index, an entry UUID, a sha256:<hex> digest, a hex digest or key fingerprint, a git commit ID, an email or other identity, or issuer:<url>';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/u;

export function parseSearchTerm(raw: string): SearchQuery {
  const term = raw.trim();
  if (term === '') throw invalid('q', `is empty: ${SHAPES}`);
  if (term.length > MAX_TERM_LENGTH)
    throw invalid(
      'q',
      `is ${term.length} characters long; a search term is at most ${MAX_TERM_LENGTH}`,
    );
  const bytes = Buffer.byteLength(term);
  if (bytes > MAX_TERM_BYTES)
    throw invalid(
      'q',
      `is ${bytes} bytes long in UTF-8; a search term is at most ${MAX_TERM_BYTES}`,
    );
  // Not typeable, and not in any identity the explorer links to (pages show them as codes).
  const control = CONTROL.exec(term);
  if (control)
    throw invalid(
      'q',
      `holds the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}, which no search term may; ${SHAPES}`,
    );
  // As entry lists name a key signer: `public key sha256:<fingerprint>`.
  const keySigner = /^public key (sha256:[0-9a-fA-F]{64})$/.exec(term);
  if (keySigner) return { kind: 'digest', key: hashKey(keySigner[1]!, 'q') };
  if (/^[0-9]+$/.test(term)) {
    if (term.length > 15 || (term.length > 1 && term.startsWith('0')))
      throw invalid('q', `"${term}" is not a log index (a decimal number without leading zeros)`);
    return { kind: 'index', index: Number(term) };
  }
  if (/^[0-9a-fA-F]+$/.test(term)) {
    if (term.length === 64) return { kind: 'hex', hex: term.toLowerCase() };
    if (term.length === 40)
      return { kind: 'commit', keys: [gitCommitSearchKey(term)!, hashKey(term, 'q')] };
    // sha384sum / sha512sum output: an Ed25519 key's files are logged by SHA-512 (Ed25519ph).
    if (term.length === 96 || term.length === 128)
      return { kind: 'digest', key: hashKey(term, 'q') };
    if (term.length === 80)
      return {
        kind: 'entryId',
        treeId: BigInt(`0x${term.slice(0, 16)}`),
        uuid: term.slice(16).toLowerCase(),
      };
    throw invalid(
      'q',
      `"${term}" is ${term.length} hex digits: an entry UUID, SHA-256 digest or fingerprint has 64, a git commit ID 40 (64 in a SHA-256 repository), a Rekor entry ID 80, a SHA-384 or SHA-512 digest 96 or 128`,
    );
  }
  const prefixed = /^(sha1|sha256|sha384|sha512):(.*)$/i.exec(term);
  if (prefixed)
    return { kind: 'digest', key: hashKey(`${prefixed[1]!.toLowerCase()}:${prefixed[2]}`, 'q') };
  // As a statement names its subject (in-toto's gitCommit), in any case as hash names are.
  const commit = /^gitcommit:(.*)$/i.exec(term);
  if (commit) {
    const key = gitCommitSearchKey(commit[1]!);
    if (key === undefined)
      throw invalid(
        'q',
        `"${term}" is not gitCommit:<a commit ID: 40 hex digits, or 64 in a SHA-256 repository>`,
      );
    return { kind: 'commit', keys: [key] };
  }
  const issuer = /^issuer:(.+)$/.exec(term);
  if (issuer) return { kind: 'issuer', issuer: issuer[1]! };
  // As typed: the search keys come from core/rekor's identitySearchKey/emailSearchKey (view.ts).
  return raw === term || raw.length > MAX_TERM_LENGTH || CONTROL.test(raw)
    ? { kind: 'identity', identity: term }
    : { kind: 'identity', identity: term, asGiven: raw };
}

/** The page number of `?page=`: 1 when absent. */
export function parsePage(v: unknown): number {
  if (v === undefined || v === '') return 1;
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,5}$/.test(v))
    throw invalid('page', 'must be a page number from 1');
  return Number(v);
}
