import { toHex } from '../core/encoding/hex.ts';
import { leafHash } from '../core/merkle/hash.ts';

/**
 * The explorer page of a log entry, as cosign prints a search.sigstore.dev link after signing.
 * Only a Signet stack has one, and its log lives at `<stack>/rekor` (Rekor v1) or
 * `<stack>/rekor/shards/<n>` (Rekor v2): the page is `<stack>/entry/<uuid>`, the UUID being
 * the entry's leaf hash (SHA-256 of 0x00 || body, Rekor's UUID). Undefined for other logs.
 */
export function explorerEntryUrl(
  logUrl: string,
  canonicalizedBody: Uint8Array,
): string | undefined {
  let u: URL;
  try {
    u = new URL(logUrl);
  } catch {
    return undefined;
  }
  if (u.search || u.hash) return undefined;
  const m = /^(.*)\/rekor(?:\/shards\/[1-9][0-9]*)?\/?$/.exec(u.pathname);
  if (!m) return undefined;
  return `${u.origin}${m[1]}/entry/${toHex(leafHash(canonicalizedBody))}`;
}
