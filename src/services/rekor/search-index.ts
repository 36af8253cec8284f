/**
 * Keeping a log's identity search keys in today's form. Logs written before the identity keys
 * were unified (core/rekor/verifier.ts identitySearchKey/emailSearchKey) hold an email SAN
 * lower-cased under `identity:` and no `email:` key; today `identity:` is the SAN exactly and
 * `email:` the lower-cased email. Such a log would answer an exact identity search for a
 * mixed-case email with nothing, and Rekor v1's email search with nothing at all. So when a
 * shard is opened without the mark of today's index, its entries' identity keys are derived
 * again from the certificates in their bodies (core/rekor/entry-facts.ts), the old ones removed,
 * and the mark written last: an interrupted migration runs again, and every step is idempotent
 * (several replicas on one PostgreSQL database may run it at once).
 */
import { rekorEntryFacts } from '../../core/rekor/entry-facts.ts';
import { emailSearchKey, identitySearchKey } from '../../core/rekor/verifier.ts';
import { identityView, type IdentityView } from '../../core/x509/identity-view.ts';
import { decodeEntryBundle } from '../../core/tiles/tiles.ts';
import { TILE_WIDTH } from '../../core/tiles/paths.ts';
import type { LogEngine, SearchKeyChange } from '../../log/types.ts';

/** Stored under index 0 once a log's identity keys are in today's form. */
export const SEARCH_INDEX_MARK = 'signet:search-index:2';

/** An entry's identity keys as written before (to remove) and today (to have). */
export function identityKeyChange(leaf: Uint8Array): Omit<SearchKeyChange, 'index'> | undefined {
  let sans: IdentityView['sans'] = [];
  try {
    for (const s of rekorEntryFacts(leaf).signers)
      if ('certificate' in s) sans = sans.concat(identityView(s.certificate, s.form).sans);
  } catch {
    return undefined; // the admission indexed no identity for a body it could not read either
  }
  // Only email keys changed form.
  if (!sans.some((s) => s.type === 'email')) return undefined;
  const now = new Set<string>();
  const before = new Set<string>();
  for (const s of sans) {
    now.add(identitySearchKey(s.value));
    if (s.type === 'email') {
      now.add(emailSearchKey(s.value));
      before.add(identitySearchKey(s.value.toLowerCase()));
    } else before.add(identitySearchKey(s.value));
  }
  // Keys no store can hold are left out by the engine, as on admission.
  return { remove: [...before].filter((k) => !now.has(k)), add: [...now] };
}

/** Brings a log's identity keys to today's form unless marked done; returns entries changed. */
export async function migrateSearchIndex(engine: LogEngine): Promise<number> {
  if ((await engine.search(SEARCH_INDEX_MARK)).length > 0) return 0;
  const { size } = await engine.checkpoint();
  let changed = 0;
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const bundle = await engine.entryBundle(n, width === TILE_WIDTH ? undefined : width);
    if (!bundle) throw new Error(`entry bundle ${n} of ${engine.origin} is missing`);
    const changes: SearchKeyChange[] = [];
    decodeEntryBundle(bundle).forEach((leaf, k) => {
      const c = identityKeyChange(leaf);
      if (c) changes.push({ index: n * TILE_WIDTH + k, ...c });
    });
    if (changes.length > 0) await engine.updateSearchKeys(changes);
    changed += changes.length;
  }
  await engine.updateSearchKeys([{ index: 0, remove: [], add: [SEARCH_INDEX_MARK] }]);
  return changed;
}
