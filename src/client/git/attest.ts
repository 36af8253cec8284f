/**
 * gitsign's `attest` (internal/attest/attest.go): an in-toto statement about a commit or its
 * tree, signed in a DSSE envelope and kept in the repository beside the history it is about,
 * never in it. Attestations of commits live on `refs/attestations/commits`, of trees on
 * `refs/attestations/trees`: each a chain of commits whose tree holds a folder per attested
 * object, named by its ID, with the predicate file as given and `<file>.sig`, the envelope.
 * Signet also keeps the Sigstore bundle the signing returned as `<file>.sigstore.json` (the
 * envelope with its certificate and log entry, so it verifies offline and without searching
 * the log); gitsign's readers see the same two files as before. Each new attestation is a
 * commit on top (the earlier ones kept, files of the same name replaced), and the ref moves
 * only if no one moved it meanwhile.
 */
import { invalid, SignetError } from '../../core/errors.ts';
import { buildStatement } from '../../core/intoto/index.ts';
import { parseJsonObject } from '../../core/json.ts';
import { git, readObjects } from './repo.ts';

export type AttestedObject = 'commit' | 'tree';

/** Where attestations of each kind of object are kept. */
export const ATTESTATION_REFS: Record<AttestedObject, string> = {
  commit: 'refs/attestations/commits',
  tree: 'refs/attestations/trees',
};

/** The digest name a statement's subject gives the object by (in-toto's gitCommit, gitTree). */
export const DIGEST_NAMES: Record<AttestedObject, string> = {
  commit: 'gitCommit',
  tree: 'gitTree',
};

/** What is added to a predicate file's name for its envelope (gitsign's) and its bundle. */
export const ENVELOPE_SUFFIX = '.sig';
export const BUNDLE_SUFFIX = '.sigstore.json';

/**
 * The statement (in-toto Statement v1) that `object` (a commit or tree ID) has the predicate in
 * `file` (a JSON object, as gitsign reads it into a protobuf Struct).
 */
export function gitStatement(
  kind: AttestedObject,
  object: string,
  predicateType: string,
  file: Uint8Array,
  field: string,
  /** The predicate file's name, said in the error. */
  name?: string,
): Uint8Array {
  const predicate = parseJsonObject(file, field, name);
  return buildStatement([{ digest: { [DIGEST_NAMES[kind]]: object } }], predicateType, predicate);
}

/** The object HEAD names: its commit, or that commit's tree. */
export function headObject(repoDir: string, kind: AttestedObject): Promise<string> {
  return attestedObject(repoDir, kind, 'HEAD');
}

/** The commit `rev` names, or (`tree`) its tree: the ID attestations are kept under. */
export async function attestedObject(
  repoDir: string,
  kind: AttestedObject,
  rev: string,
): Promise<string> {
  if (rev.startsWith('-')) throw invalid('revision', `"${rev}" is not a revision`);
  try {
    return (await git(repoDir, ['rev-parse', '--verify', '--quiet', `${rev}^{${kind}}`]))
      .toString()
      .trim();
  } catch {
    throw new SignetError(
      'not-found',
      'NO_SUCH_OBJECT',
      rev === 'HEAD'
        ? `HEAD names no ${kind} in ${repoDir}: commit something first`
        : `"${rev}" does not name a ${kind} in ${repoDir}`,
      { field: rev === 'HEAD' ? 'HEAD' : 'revision' },
    );
  }
}

/**
 * Refuses, before anything is signed or logged, a repository where git could not write the
 * attestation commit: it needs an author and a committer (user.name, user.email).
 */
export async function checkCanCommit(repoDir: string): Promise<void> {
  for (const who of ['GIT_AUTHOR_IDENT', 'GIT_COMMITTER_IDENT'])
    await git(repoDir, ['var', who]).catch((e: unknown) => {
      throw new SignetError(
        'invalid-input',
        'GIT_FAILED',
        `git cannot name the attestation commit's ${who === 'GIT_AUTHOR_IDENT' ? 'author' : 'committer'} (${(e as Error).message}): set user.name and user.email with git config`,
        { cause: e },
      );
    });
}

interface TreeEntry {
  mode: string;
  type: string;
  id: string;
  name: string;
  /** A blob's size in bytes (ls-tree -l); undefined for trees and entries being written. */
  size?: number | undefined;
}

async function treeEntries(repoDir: string, tree: string): Promise<TreeEntry[]> {
  // -z: names as they are (no quoting), each entry ended by a NUL; -l: blob sizes.
  const out = (await git(repoDir, ['ls-tree', '-z', '-l', tree])).toString('utf8');
  return out
    .split('\0')
    .filter((l) => l !== '')
    .map((l) => {
      const tab = l.indexOf('\t');
      const [mode, type, id, size] = l.slice(0, tab).split(/ +/) as [
        string,
        string,
        string,
        string,
      ];
      return {
        mode,
        type,
        id,
        name: l.slice(tab + 1),
        size: /^\d+$/.test(size) ? Number(size) : undefined,
      };
    });
}

/** A tree of `entries` (git sorts them), written to the object store; its ID. */
async function writeTree(repoDir: string, entries: TreeEntry[]): Promise<string> {
  const text = entries.map((e) => `${e.mode} ${e.type} ${e.id}\t${e.name}\0`).join('');
  return (await git(repoDir, ['mktree', '-z'], text)).toString().trim();
}

/** `entries` with `added` in place of any of the same name. */
function withEntries(entries: TreeEntry[], added: TreeEntry[]): TreeEntry[] {
  const names = new Set(added.map((e) => e.name));
  return [...entries.filter((e) => !names.has(e.name)), ...added];
}

/**
 * `name` can be kept as an attestation's predicate file in a folder holding `inFolder`: a file
 * name, and neither the name of a bundle (`x.sigstore.json` would be read as the bundle of `x`)
 * nor one whose bundle would replace another attestation's predicate file (`x` where
 * `x.sigstore.json` was attested, as gitsign may have).
 */
function checkName(name: string, inFolder: TreeEntry[]): void {
  if (name === '' || name.includes('/') || name.includes('\0') || name === '.' || name === '..')
    throw invalid('--filepath', `"${name}" cannot name a file in a tree`);
  if (name.endsWith(BUNDLE_SUFFIX))
    throw invalid(
      '--filepath',
      `"${name}" ends in ${BUNDLE_SUFFIX}, as the bundle kept beside an attestation is named: rename the predicate file`,
    );
  const bundleName = `${name}${BUNDLE_SUFFIX}`;
  if (inFolder.some((e) => e.name === `${bundleName}${ENVELOPE_SUFFIX}`))
    throw invalid(
      '--filepath',
      `"${name}" cannot be attested here: its bundle, ${bundleName}, would replace the attestation of that name kept for this object`,
    );
}

/**
 * Refuses, before anything is signed or logged, a predicate file name the attestation could
 * not be kept under (checkName) in the folder of `object` as the attestation ref has it now.
 */
export async function checkAttestationName(
  repoDir: string,
  kind: AttestedObject,
  object: string,
  name: string,
): Promise<void> {
  checkName(name, (await refFolder(repoDir, ATTESTATION_REFS[kind], object)).inFolder);
}

/**
 * The newest commit of `ref` (undefined when there is none), its tree's entries and those of
 * `object`'s folder in it (none when either is missing).
 */
async function refFolder(
  repoDir: string,
  ref: string,
  object: string,
): Promise<{ head: string | undefined; root: TreeEntry[]; inFolder: TreeEntry[] }> {
  const head = await git(repoDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).then(
    (b) => b.toString().trim(),
    () => undefined,
  );
  const root = head ? await treeEntries(repoDir, `${head}^{tree}`) : [];
  const folder = root.find((e) => e.name === object && e.type === 'tree');
  return { head, root, inFolder: folder ? await treeEntries(repoDir, folder.id) : [] };
}

/**
 * Keeps an attestation of `object` in the repository: `file` (as given, named `name`), its
 * envelope (`<name>.sig`) and, when given, the bundle the envelope came in
 * (`<name>.sigstore.json`; without one, a bundle of an earlier attestation of that name is
 * removed, since it is no longer of this envelope), in the object's folder of the attestation
 * ref's tree, on a new commit. Returns the commit's ID. The commit is not signed (gitsign's is
 * not either: the envelope is the signature).
 */
export async function storeAttestation(
  repoDir: string,
  kind: AttestedObject,
  object: string,
  name: string,
  file: Uint8Array,
  envelopeJson: string,
  bundleJson?: string,
): Promise<string> {
  const ref = ATTESTATION_REFS[kind];
  const { head: parent, root, inFolder } = await refFolder(repoDir, ref, object);
  checkName(name, inFolder);
  const blob = async (data: Uint8Array | string) =>
    (await git(repoDir, ['hash-object', '-w', '--stdin'], data)).toString().trim();
  const [fileId, sigId, bundleId] = await Promise.all([
    blob(file),
    blob(envelopeJson),
    bundleJson === undefined ? undefined : blob(bundleJson),
  ]);
  const bundleName = `${name}${BUNDLE_SUFFIX}`;
  const folderId = await writeTree(
    repoDir,
    withEntries(
      inFolder.filter((e) => e.name !== bundleName),
      [
        { mode: '100644', type: 'blob', id: fileId, name },
        { mode: '100644', type: 'blob', id: sigId, name: `${name}${ENVELOPE_SUFFIX}` },
        ...(bundleId === undefined
          ? []
          : [{ mode: '100644', type: 'blob', id: bundleId, name: bundleName }]),
      ],
    ),
  );
  const rootId = await writeTree(
    repoDir,
    withEntries(root, [{ mode: '040000', type: 'tree', id: folderId, name: object }]),
  );
  const commit = (
    await git(repoDir, [
      'commit-tree',
      '--no-gpg-sign',
      rootId,
      ...(parent ? ['-p', parent] : []),
      '-m',
      `Gitsign attest ${name}`,
    ])
  )
    .toString()
    .trim();
  // The ref moves only from where it was read (a new ref: only if there is none yet).
  try {
    await git(repoDir, ['update-ref', '-m', 'signet attest', ref, commit, parent ?? '']);
  } catch (e) {
    throw new SignetError(
      'conflict',
      'ATTESTATION_REF_MOVED',
      `${ref} changed while the attestation was written (another attest at the same time?): run it again`,
      { cause: e },
    );
  }
  return commit;
}

/** The largest envelope, bundle or predicate file read back (as git's own reads here: 64 MiB). */
export const MAX_ATTESTATION_FILE = 64 * 1024 * 1024;

/**
 * One attestation as kept: the envelope `<name>.sig`, the predicate file `<name>` and the
 * bundle `<name>.sigstore.json` beside it (each undefined when the folder lacks it), or why
 * they cannot be read: too large, or (`incomplete`) the envelope missing beside what was kept.
 */
export type StoredAttestation = { name: string } & (
  | {
      envelope: Uint8Array;
      file: Uint8Array | undefined;
      bundle: Uint8Array | undefined;
      unreadable?: undefined;
    }
  | { unreadable: string; incomplete?: boolean }
);

export interface StoredAttestations {
  ref: string;
  /** Whether the ref exists in this repository at all (it is fetched separately). */
  refExists: boolean;
  /**
   * Every `<name>.sig` in the object's folder, in the tree's order; then every predicate file
   * or bundle kept without its `.sig` (incomplete: something was kept that cannot be checked).
   */
  attestations: StoredAttestation[];
}

/**
 * The files of a folder that no `<name>.sig` accounts for (a predicate file `<name>` or a bundle
 * `<name>.sigstore.json` whose envelope is missing), by attestation name, each with what is
 * missing: an attestation is checked through its envelope, so without it nothing kept verifies.
 */
function incompleteAttestations(
  names: string[],
  claimed: Set<string>,
): Array<{ name: string; reason: string }> {
  const byName = new Map<string, string[]>();
  for (const fileName of names) {
    if (claimed.has(fileName)) continue;
    const isBundle = fileName.endsWith(BUNDLE_SUFFIX) && fileName !== BUNDLE_SUFFIX;
    const name = isBundle ? fileName.slice(0, -BUNDLE_SUFFIX.length) : fileName;
    byName.set(name, [...(byName.get(name) ?? []), fileName]);
  }
  return [...byName].map(([name, kept]) => ({
    name,
    reason: `${name}${ENVELOPE_SUFFIX} is missing beside ${kept.join(' and ')}: the envelope holds the signature, so this attestation cannot be checked (kept incomplete, or its ${ENVELOPE_SUFFIX} was removed)`,
  }));
}

/**
 * The attestations kept for `object` (a commit or tree ID) on its attestation ref, as the ref's
 * newest commit holds them: every one added over time, each file name once (a later attestation
 * of a file of the same name replaced the earlier). Only regular files count.
 */
export async function readAttestations(
  repoDir: string,
  kind: AttestedObject,
  object: string,
): Promise<StoredAttestations> {
  const ref = ATTESTATION_REFS[kind];
  const { head, inFolder } = await refFolder(repoDir, ref, object);
  if (head === undefined) return { ref, refExists: false, attestations: [] };
  const files = new Map(
    inFolder
      .filter((e) => e.type === 'blob' && (e.mode === '100644' || e.mode === '100755'))
      .map((e) => [e.name, e]),
  );
  const wanted: TreeEntry[] = [];
  const found: Array<{
    name: string;
    parts: { sig: TreeEntry; file: TreeEntry | undefined; bundle: TreeEntry | undefined };
    tooLarge?: TreeEntry;
  }> = [];
  for (const [fileName, sig] of files) {
    if (!fileName.endsWith(ENVELOPE_SUFFIX) || fileName === ENVELOPE_SUFFIX) continue;
    const name = fileName.slice(0, -ENVELOPE_SUFFIX.length);
    const parts = { sig, file: files.get(name), bundle: files.get(`${name}${BUNDLE_SUFFIX}`) };
    const kept = Object.values(parts).filter((e) => e !== undefined);
    const tooLarge = kept.find((e) => (e.size ?? 0) > MAX_ATTESTATION_FILE);
    if (!tooLarge) wanted.push(...kept);
    found.push({ name, parts, ...(tooLarge ? { tooLarge } : {}) });
  }
  const claimed = new Set(
    found.flatMap(({ name }) => [name, `${name}${ENVELOPE_SUFFIX}`, `${name}${BUNDLE_SUFFIX}`]),
  );
  const content = new Map<string, Uint8Array>();
  for await (const o of readObjects(repoDir, [...new Set(wanted.map((e) => e.id))]))
    content.set(o.id, o.raw);
  const read = (e: TreeEntry | undefined) => e && content.get(e.id);
  return {
    ref,
    refExists: true,
    attestations: [
      ...found.map(({ name, parts, tooLarge }) =>
        tooLarge
          ? {
              name,
              unreadable: `${tooLarge.name} is ${tooLarge.size} bytes; at most ${MAX_ATTESTATION_FILE} are read`,
            }
          : {
              name,
              envelope: read(parts.sig)!,
              file: read(parts.file),
              bundle: read(parts.bundle),
            },
      ),
      ...incompleteAttestations([...files.keys()], claimed).map(({ name, reason }) => ({
        name,
        unreadable: reason,
        incomplete: true,
      })),
    ],
  };
}
