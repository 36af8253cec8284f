import { invalid } from '../../core/errors.ts';
import { hashKey } from '../rekor/search.ts';

/**
 * A search term typed into the explorer, read once into what it asks for. The shapes people
 * paste: a log index (`12`), an entry UUID (64 hex) or Rekor v1 entry ID (80 hex: tree ID +
 * UUID), an artifact digest (`sha256:<hex>`, or bare 64 hex), a public-key or certificate
 * fingerprint (64 hex: SHA-256 of the SPKI or of the certificate DER, as the entry page shows
 * them), an email or other identity (a certificate SAN: `a@b.c`, `https://github.com/...`), and
 * `issuer:<url>` for everything one identity provider vouched for.
 *
 * 64 hex digits are all of digest, fingerprint and UUID at once: the search tries each.
 */
export type SearchQuery =
  | { kind: 'index'; index: number }
  | { kind: 'entryId'; uuid: string; treeId: bigint }
  /** 64 hex: an entry UUID, an artifact digest, or a key or certificate fingerprint. */
  | { kind: 'hex'; hex: string }
  /** A digest with its algorithm (`sha256:...`), as the log's search key; a SHA-256 one may be a fingerprint. */
  | { kind: 'digest'; key: string }
  | { kind: 'identity'; identity: string }
  | { kind: 'issuer'; issuer: string };

export const MAX_TERM_LENGTH = 512;

const SHAPES =
  'give a log index, an entry UUID, a sha256:<hex> digest, a 64-digit hex digest or key fingerprint, an email or other identity, or issuer:<url>';

export function parseSearchTerm(raw: string): SearchQuery {
  const term = raw.trim();
  if (term === '') throw invalid('q', `is empty: ${SHAPES}`);
  if (term.length > MAX_TERM_LENGTH)
    throw invalid(
      'q',
      `is ${term.length} characters long; a search term is at most ${MAX_TERM_LENGTH}`,
    );
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/u.test(term))
    throw invalid(
      'q',
      `holds spaces or control characters, which no identity, digest or index has; ${SHAPES}`,
    );
  if (/^[0-9]+$/.test(term)) {
    if (term.length > 15 || (term.length > 1 && term.startsWith('0')))
      throw invalid('q', `"${term}" is not a log index (a decimal number without leading zeros)`);
    return { kind: 'index', index: Number(term) };
  }
  if (/^[0-9a-fA-F]+$/.test(term)) {
    if (term.length === 64) return { kind: 'hex', hex: term.toLowerCase() };
    if (term.length === 80)
      return {
        kind: 'entryId',
        treeId: BigInt(`0x${term.slice(0, 16)}`),
        uuid: term.slice(16).toLowerCase(),
      };
    throw invalid(
      'q',
      `"${term}" is ${term.length} hex digits: an entry UUID, SHA-256 digest or fingerprint has 64, a Rekor entry ID 80`,
    );
  }
  const prefixed = /^(sha1|sha256|sha384|sha512):(.*)$/i.exec(term);
  if (prefixed)
    return { kind: 'digest', key: hashKey(`${prefixed[1]!.toLowerCase()}:${prefixed[2]}`, 'q') };
  const issuer = /^issuer:(.+)$/.exec(term);
  if (issuer) return { kind: 'issuer', issuer: issuer[1]! };
  // As typed: the search keys come from core/rekor's identitySearchKey/emailSearchKey (view.ts).
  return { kind: 'identity', identity: term };
}

/** The page number of `?page=`: 1 when absent. */
export function parsePage(v: unknown): number {
  if (v === undefined || v === '') return 1;
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,5}$/.test(v))
    throw invalid('page', 'must be a page number from 1');
  return Number(v);
}
