/**
 * Keeping a log's search keys in today's form, in three marked steps run when a shard is opened;
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
 *    `cert`) put its entry in the search results of whoever it named. Each row of a dsse or
 *    intoto entry that is not a subject key (a hash key, or a git commit's `gitcommit:<hex>`)
 *    is checked against the keys the entry's own signers give (the only other keys admission
 *    makes for it); a row they do not give is removed. Rows of other entries, and of entries
 *    whose body cannot be read, are kept.
 * 3. Git commit keys of the statements the log keeps (COMMIT_KEYS_MARK). Admission indexes a
 *    statement's `gitCommit` subject (core/rekor/subject-keys.ts) so a search by a commit ID
 *    finds the attestations about that commit; entries admitted before have no such key (or
 *    lost it in step 2). An intoto entry keeps its statement beside it (Rekor's attestation
 *    storage, up to MAX_ATTESTATION_SIZE): its commit keys are made again from that statement,
 *    when it hashes to the payload digest the body records (what is kept is outside the Merkle
 *    tree). A dsse entry keeps only its payload's digest, so one admitted before stays without.
 */
import { describeEntryBody } from '../../core/rekor/describe.ts';
import { rekorEntryFacts, type EntryFacts } from '../../core/rekor/entry-facts.ts';
import { sha256Hex } from '../../core/rekor/hash.ts';
import { intotoSubjectKeys, isSubjectSearchKey } from '../../core/rekor/subject-keys.ts';
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
/** Stored under index 0 once the statements a log keeps have their git commit keys. */
export const COMMIT_KEYS_MARK = 'signet:Search-Index:4';

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

/** Brings a log's search keys to today's form (every step); returns the rows each changed. */
export async function migrateSearchIndex(
  engine: LogEngine,
): Promise<{ identityKeys: number; statementKeys: number; commitKeys: number }> {
  return {
    identityKeys: await migrateIdentityKeys(engine),
    statementKeys: await removeStatementKeys(engine),
    commitKeys: await addCommitKeys(engine),
  };
}

/**
 * The log's entries in order, a tile's entry bundle at a time: `each` gets a bundle's leaves
 * and the index of its first.
 */
async function forEachBundle(
  engine: LogEngine,
  size: number,
  each: (leaves: Uint8Array[], first: number) => Promise<void> | void,
): Promise<void> {
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const bundle = await engine.entryBundle(n, width === TILE_WIDTH ? undefined : width);
    if (!bundle) throw new Error(`entry bundle ${n} of ${engine.origin} is missing`);
    await each(decodeEntryBundle(bundle), n * TILE_WIDTH);
  }
}

/** Step 1, unless marked done; returns entries changed. */
async function migrateIdentityKeys(engine: LogEngine): Promise<number> {
  if ((await engine.search(SEARCH_INDEX_MARK)).length > 0) return 0;
  const { size } = await engine.checkpoint();
  let changed = 0;
  await forEachBundle(engine, size, async (leaves, first) => {
    const changes: SearchKeyChange[] = [];
    leaves.forEach((leaf, k) => {
      const c = identityKeyChange(leaf);
      if (c) changes.push({ index: first + k, ...c });
    });
    if (changes.length > 0) await engine.updateSearchKeys(changes);
    changed += changes.length;
  });
  await engine.updateSearchKeys([{ index: 0, remove: [], add: [SEARCH_INDEX_MARK] }]);
  return changed;
}

/** The keys an entry's signers give it (verifierSearchKeys), or undefined when unreadable. */
function signerKeys(facts: EntryFacts): Set<string> | undefined {
  try {
    return new Set(
      facts.signers.flatMap((s) =>
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

/** An entry's facts, or undefined when its body cannot be read. */
function factsOf(leaf: Uint8Array): EntryFacts | undefined {
  try {
    return rekorEntryFacts(leaf);
  } catch {
    return undefined;
  }
}

/** The marks of the steps, under entry 0 whatever its kind. */
const MARKS = new Set([SEARCH_INDEX_MARK, SUBJECT_KEYS_MARK, COMMIT_KEYS_MARK]);

/** Kinds whose admission indexed a statement's subjects (core/rekor/v1.ts, v2.ts). */
const STATEMENT_KINDS = /^(dsse|intoto)\//;

/** Kinds that keep their statement beside the entry (core/rekor/v1.ts intoto). */
const KEPT_STATEMENT_KINDS = /^intoto\//;

/**
 * Whether a leaf may be of a kind `kinds` matches, read from its first bytes: a body the log
 * wrote is canonical JSON, `{"apiVersion":"...","kind":"...",`, so the others are passed over
 * without a parse. One whose kind is not there is parsed; one that misleads the sniff keeps
 * its rows (and gets no commit keys).
 */
function mayBeOfKind(leaf: Uint8Array, kinds: RegExp): boolean {
  const head = Buffer.from(leaf.buffer, leaf.byteOffset, Math.min(leaf.byteLength, 64));
  const kind = /"kind":"([^"]*)"/.exec(head.toString('latin1'))?.[1];
  return kind === undefined || kinds.test(`${kind}/`);
}

/** A 32-bit FNV-1a hash of a key's UTF-16 code units: a compact stand-in for the key. */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The signer keys of the entries that took a statement, as hashes, from one pass over the
 * log: entry i's are hashes[starts[i]..starts[i+1]), and `known` has a bit for each entry
 * whose keys were read (an entry of another kind, or whose body cannot be read, keeps all its
 * rows). Four bytes an entry and four a key: a million attestations take about 25 MB.
 */
interface StatementSigners {
  known: Uint8Array;
  starts: Uint32Array;
  hashes: Uint32Array;
}

async function statementSigners(engine: LogEngine, size: number): Promise<StatementSigners> {
  const known = new Uint8Array(Math.ceil(size / 8));
  const starts = new Uint32Array(size + 1);
  let hashes = new Uint32Array(1024);
  let n = 0;
  await forEachBundle(engine, size, (leaves, first) =>
    leaves.forEach((leaf, k) => {
      const i = first + k;
      starts[i] = n;
      if (!mayBeOfKind(leaf, STATEMENT_KINDS)) return;
      const facts = factsOf(leaf);
      // Other kinds, and bodies that cannot be read, keep all their rows.
      const keys = facts && STATEMENT_KINDS.test(facts.kind) ? signerKeys(facts) : undefined;
      if (!keys) return;
      known[i >> 3]! |= 1 << (i & 7);
      for (const key of keys) {
        if (n === hashes.length) {
          const grown = new Uint32Array(hashes.length * 2);
          grown.set(hashes);
          hashes = grown;
        }
        hashes[n++] = keyHash(key);
      }
    }),
  );
  starts[size] = n;
  return { known, starts, hashes };
}

/** Rows read from the index at a time. */
const PAGE = 4096;

/**
 * Step 2, unless marked done; returns the rows removed. One pass over the entries hashes the
 * keys the signers of each statement entry give (statementSigners); then the index is read in
 * key order, and a row of such an entry whose key is not among them is removed (a key whose
 * hash happens to match one of them, about one in 600 million, is kept). An entry that loses
 * a row gets its signers' keys again (kept if there), so a log whose step 1 never ran (its
 * mark is a key a statement could name) keeps every identity it should have.
 */
async function removeStatementKeys(engine: LogEngine): Promise<number> {
  if ((await engine.search(SUBJECT_KEYS_MARK)).length > 0) return 0;
  const { size } = await engine.checkpoint();
  const { known, starts, hashes } = await statementSigners(engine, size);
  const signerKey = (i: number, key: string): boolean => {
    const h = keyHash(key);
    for (let j = starts[i]!; j < starts[i + 1]!; j++) if (hashes[j] === h) return true;
    return false;
  };
  let removed = 0;
  let after;
  if (known.some((b) => b !== 0))
    do {
      const page = await engine.searchPage(after, PAGE);
      const changes: SearchKeyChange[] = [];
      for (const row of page.rows) {
        const i = row.index;
        if (i >= size || !(known[i >> 3]! & (1 << (i & 7)))) continue;
        if (isSubjectSearchKey(row.key) || (i === 0 && MARKS.has(row.key))) continue;
        if (signerKey(i, row.key)) continue;
        const facts = factsOf((await engine.entry(i))!.leaf);
        const keys = facts && signerKeys(facts);
        changes.push({ index: i, remove: [row.key], add: [...(keys ?? [])] });
      }
      if (changes.length > 0) await engine.updateSearchKeys(changes);
      removed += changes.length;
      after = page.next;
    } while (after);
  await engine.updateSearchKeys([{ index: 0, remove: [], add: [SUBJECT_KEYS_MARK] }]);
  return removed;
}

/**
 * The git commit keys of the statement an intoto entry keeps (`kept`), as admission makes them;
 * none when it keeps none, or one that does not hash to the payload digest its body records.
 */
function keptCommitKeys(leaf: Uint8Array, kept: Uint8Array | undefined): string[] {
  if (!kept || kept.length === 0) return [];
  let d;
  try {
    d = describeEntryBody(leaf);
  } catch {
    return [];
  }
  const payload = d.digests.find((x) => x.of === 'payload');
  if (!KEPT_STATEMENT_KINDS.test(`${d.kind}/`) || payload?.algorithm !== 'sha256') return [];
  if (sha256Hex(kept) !== payload.hex) return [];
  return intotoSubjectKeys(d.payloadType ?? '', kept).filter((k) => k.startsWith('gitcommit:'));
}

/** Step 3, unless marked done; returns the entries given commit keys. */
async function addCommitKeys(engine: LogEngine): Promise<number> {
  if ((await engine.search(COMMIT_KEYS_MARK)).length > 0) return 0;
  const { size } = await engine.checkpoint();
  let changed = 0;
  await forEachBundle(engine, size, async (leaves, first) => {
    const changes: SearchKeyChange[] = [];
    for (const [k, leaf] of leaves.entries()) {
      if (!mayBeOfKind(leaf, KEPT_STATEMENT_KINDS)) continue;
      const add = keptCommitKeys(leaf, (await engine.entry(first + k))?.extra);
      if (add.length > 0) changes.push({ index: first + k, remove: [], add });
    }
    if (changes.length > 0) await engine.updateSearchKeys(changes);
    changed += changes.length;
  });
  await engine.updateSearchKeys([{ index: 0, remove: [], add: [COMMIT_KEYS_MARK] }]);
  return changed;
}
