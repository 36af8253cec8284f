/**
 * Keeping a log's search keys in today's form, in two marked steps run when a shard is opened;
 * each writes its mark last, so an interrupted step runs again, and every step is idempotent
 * (several replicas on one PostgreSQL database may run it at once).
 *
 * 1. Identity keys (SEARCH_INDEX_MARK). Logs written before the identity keys were unified
 *    (core/rekor/verifier.ts identitySearchKey/emailSearchKey) hold an email SAN lower-cased
 *    under `identity:` and no `email:` key; today `identity:` is the SAN exactly and `email:`
 *    the lower-cased email. Such a log would answer an exact identity search for a mixed-case
 *    email with nothing, and Rekor v1's email search with nothing at all. Its entries' identity
 *    keys are derived again from the certificates in their bodies (core/rekor/entry-facts.ts).
 * 2. Keys an attestation's statement named (SUBJECT_KEYS_MARK). Before in-toto subjects were
 *    indexed only as hash search keys (core/rekor/subject-keys.ts), every subject digest became
 *    `alg:value`, so a statement with a digest named `identity` (or `email`, `issuer`, `key`,
 *    `cert`) put its entry in the search results of whoever it named. Every row of the index
 *    that is not a hash key is checked against the keys its entry's own signers give (those
 *    are the only other keys admission makes); a row they do not give is removed. An entry
 *    whose body cannot be read keeps its rows.
 */
import { rekorEntryFacts } from '../../core/rekor/entry-facts.ts';
import { digestSearchKey } from '../../core/rekor/hash.ts';
import {
  certificatesFromDer,
  emailSearchKey,
  identitySearchKey,
  publicKeyFromSpki,
  verifierSearchKeys,
} from '../../core/rekor/verifier.ts';
import { identityView, type IdentityView } from '../../core/x509/identity-view.ts';
import { decodeEntryBundle } from '../../core/tiles/tiles.ts';
import { TILE_WIDTH } from '../../core/tiles/paths.ts';
import type { LogEngine, SearchKeyChange } from '../../log/types.ts';

/** Stored under index 0 once a log's identity keys are in today's form. */
export const SEARCH_INDEX_MARK = 'signet:search-index:2';
/**
 * Stored under index 0 once a log's index holds no key an attestation's statement named. It
 * has capitals: the keys statements named were lower-cased whole, so none can be this mark.
 */
export const SUBJECT_KEYS_MARK = 'signet:Search-Index:3';

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

/** Brings a log's search keys to today's form (both steps); returns the rows each changed. */
export async function migrateSearchIndex(
  engine: LogEngine,
): Promise<{ identityKeys: number; statementKeys: number }> {
  return {
    identityKeys: await migrateIdentityKeys(engine),
    statementKeys: await removeStatementKeys(engine),
  };
}

/** Step 1, unless marked done; returns entries changed. */
async function migrateIdentityKeys(engine: LogEngine): Promise<number> {
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

/** The keys an entry's signers give it (verifierSearchKeys), or undefined when unreadable. */
export function signerKeys(leaf: Uint8Array): Set<string> | undefined {
  try {
    return new Set(
      rekorEntryFacts(leaf).signers.flatMap((s) =>
        verifierSearchKeys(
          'certificate' in s
            ? certificatesFromDer([s.certificate], 'signer')
            : publicKeyFromSpki(s.publicKey, 'signer'),
        ),
      ),
    );
  } catch {
    return undefined;
  }
}

/** A hash search key (`sha256:<hex>` and the others a hash search takes), as admission makes. */
function isHashKey(key: string): boolean {
  const colon = key.indexOf(':');
  return colon > 0 && digestSearchKey(key.slice(0, colon), key.slice(colon + 1)) === key;
}

/** The marks of the steps, under entry 0 whatever its kind. */
const MARKS = new Set([SEARCH_INDEX_MARK, SUBJECT_KEYS_MARK]);

/** Kinds whose admission indexed a statement's subjects (core/rekor/v1.ts, v2.ts). */
function tookStatement(leaf: Uint8Array): boolean {
  try {
    return /^(dsse|intoto)\//.test(rekorEntryFacts(leaf).kind);
  } catch {
    return false; // nothing known of it: its rows are kept
  }
}

/** Rows read from the index at a time, and entries whose signer keys are kept between rows. */
const PAGE = 4096;
const REMEMBERED = 4096;

/**
 * Step 2, unless marked done; returns the rows removed. First the entries that took a
 * statement are found (one pass over the entries, a bit each); then the index is read in key
 * order, and only those entries' rows are checked (an entry read per row, a few thousand
 * remembered: one entry's rows are far apart in key order). An entry that loses a row gets its
 * signers' keys again (kept if there), so a log whose step 1 never ran (its mark is a key a
 * statement could name) keeps every identity it should have.
 */
async function removeStatementKeys(engine: LogEngine): Promise<number> {
  if ((await engine.search(SUBJECT_KEYS_MARK)).length > 0) return 0;
  const { size } = await engine.checkpoint();
  const attestation = new Uint8Array(Math.ceil(size / 8));
  let any = false;
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const bundle = await engine.entryBundle(n, width === TILE_WIDTH ? undefined : width);
    if (!bundle) throw new Error(`entry bundle ${n} of ${engine.origin} is missing`);
    decodeEntryBundle(bundle).forEach((leaf, k) => {
      const i = n * TILE_WIDTH + k;
      if (tookStatement(leaf)) {
        attestation[i >> 3]! |= 1 << (i & 7);
        any = true;
      }
    });
  }
  let removed = 0;
  if (any) {
    const remembered = new Map<number, Set<string> | undefined>();
    const keysOf = async (index: number): Promise<Set<string> | undefined> => {
      if (remembered.has(index)) return remembered.get(index);
      const entry = await engine.entry(index);
      const keys = entry ? signerKeys(entry.leaf) : undefined;
      if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
      remembered.set(index, keys);
      return keys;
    };
    let after;
    do {
      const page = await engine.searchPage(after, PAGE);
      const changes: SearchKeyChange[] = [];
      for (const row of page.rows) {
        const i = row.index;
        if (i >= size || !(attestation[i >> 3]! & (1 << (i & 7)))) continue;
        if (isHashKey(row.key) || (i === 0 && MARKS.has(row.key))) continue;
        const keys = await keysOf(i);
        if (keys && !keys.has(row.key))
          changes.push({ index: i, remove: [row.key], add: [...keys] });
      }
      if (changes.length > 0) await engine.updateSearchKeys(changes);
      removed += changes.length;
      after = page.next;
    } while (after);
  }
  await engine.updateSearchKeys([{ index: 0, remove: [], add: [SUBJECT_KEYS_MARK] }]);
  return removed;
}
