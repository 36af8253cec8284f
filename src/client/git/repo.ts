/**
 * Reading signed objects out of a repository with git itself (no re-implementation of the
 * object store): `git rev-parse` to name objects, `git rev-list` for ranges, and one
 * `git cat-file --batch` per range so a thousand commits cost one process, not a thousand.
 */
import { SignetError, verificationFailed } from '../../core/errors.ts';
import {
  objectFormatOfId,
  objectId,
  tagNameOf,
  type SignedObjectType,
} from '../../core/git/object.ts';
const { execFile, spawn } = process.getBuiltinModule('node:child_process');

/**
 * git's environment for every run here, with replace refs off (`GIT_NO_REPLACE_OBJECTS`):
 * `refs/replace/X` makes git hand out another object's bytes under X's ID, in `cat-file` and in
 * `rev-list` alike, so a pushed replace ref (a mirror clone copies them) would have an unsigned
 * commit verified with the bytes of a signed one. What is verified is the object itself.
 */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_NO_REPLACE_OBJECTS: '1' };
}

const MAX_OBJECT = 64 * 1024 * 1024;

function gitError(args: string[], e: unknown, stderr: string): SignetError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new SignetError('unavailable', 'GIT_NOT_FOUND', 'git is not installed (not on PATH)');
  // git's error line, not the hints it may print after it ("Use a regexp, --add or ...").
  const lines = stderr.trim().split('\n');
  const why =
    lines.findLast((l) => /^(error|fatal): /.test(l)) || lines.pop() || (e as Error).message;
  return new SignetError('invalid-input', 'GIT_FAILED', `git ${args[0]}: ${why}`, { cause: e });
}

/** Runs git in `repoDir` (with `input` on its standard input); resolves to stdout (bytes). */
export function git(repoDir: string, args: string[], input?: Uint8Array | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd: repoDir, encoding: 'buffer', maxBuffer: MAX_OBJECT, env: gitEnv() },
      (err, stdout, stderr) => {
        if (err) reject(gitError(args, err, stderr.toString()));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * Refuses a folder outside any git repository with that sentence (git's own "not a git
 * repository" would otherwise surface as some later step's failure, such as an unborn HEAD).
 * `command` is what to run in the repository instead.
 */
export async function requireRepository(repoDir: string, command: string): Promise<void> {
  await git(repoDir, ['rev-parse', '--git-dir']).catch(() => {
    throw new SignetError(
      'invalid-input',
      'NOT_A_REPOSITORY',
      `${repoDir} is not in a git repository: run ${command} in the repository of the commits`,
    );
  });
}

/** The object ID `rev` names, peeled to `type` (`v1.0^{tag}`, `HEAD^{commit}`). */
export async function resolveObject(
  repoDir: string,
  rev: string,
  type: SignedObjectType,
): Promise<string> {
  if (rev.startsWith('-'))
    throw new SignetError('invalid-input', 'INVALID_INPUT', `"${rev}" is not a revision`, {
      field: type === 'tag' ? 'tag' : 'revision',
    });
  try {
    return (await git(repoDir, ['rev-parse', '--verify', '--quiet', `${rev}^{${type}}`]))
      .toString()
      .trim();
  } catch {
    // A tag name that names nothing is missing; one under refs/tags is lightweight; anything
    // else (HEAD, a branch) is another kind of object.
    const named =
      type === 'tag'
        ? await git(repoDir, ['cat-file', '-t', `${rev}^{}`]).then(
            (b) => b.toString().trim(),
            () => undefined,
          )
        : undefined;
    // The ref `rev` names, as git reads it (`v1`, `tags/v1` and `refs/tags/v1` alike).
    const tagRef =
      named !== undefined &&
      (await git(repoDir, ['rev-parse', '--symbolic-full-name', rev]).catch(() => Buffer.alloc(0)))
        .toString()
        .trim()
        .startsWith('refs/tags/');
    // A lightweight tag is a ref straight to a commit: no tag object, so no signature kept,
    // which is what an unsigned tag is too (NOT_SIGNED: cosign's "no signature", exit 10).
    if (tagRef)
      throw verificationFailed(
        'NOT_SIGNED',
        `tag "${rev}" is lightweight (a ref straight to a ${named}, no tag object), so nothing is signed: make a signed tag with git tag -s`,
      );
    throw new SignetError(
      'not-found',
      'NO_SUCH_OBJECT',
      type === 'tag'
        ? named === undefined
          ? `no such tag "${rev}" in ${repoDir}`
          : `"${rev}" names a ${named}, not a tag: verify-commit verifies it`
        : `"${rev}" does not name a commit in ${repoDir}`,
      { field: type === 'tag' ? 'tag' : 'revision' },
    );
  }
}

/** The commits of a range (`A..B`, or anything rev-list takes), oldest first. */
export async function commitsOf(repoDir: string, range: string): Promise<string[]> {
  if (range.startsWith('-'))
    throw new SignetError('invalid-input', 'INVALID_INPUT', `"${range}" is not a range`, {
      field: '--range',
    });
  try {
    const out = (await git(repoDir, ['rev-list', '--reverse', range, '--'])).toString();
    return out.split('\n').filter((l) => l !== '');
  } catch (e) {
    throw new SignetError(
      'invalid-input',
      'INVALID_INPUT',
      `"${range}" is not a commit range in ${repoDir}: ${(e as Error).message}`,
      { field: '--range', cause: e },
    );
  }
}

export interface RawObject {
  id: string;
  type: string;
  raw: Uint8Array;
}

/**
 * The raw objects for `ids`, in order, through one `git cat-file --batch`. Yields each object
 * as it is read, so verification of a long range starts at once and memory stays flat.
 */
export async function* readObjects(
  repoDir: string,
  ids: readonly string[],
): AsyncGenerator<RawObject> {
  if (ids.length === 0) return;
  const child = spawn('git', ['cat-file', '--batch'], {
    cwd: repoDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: gitEnv(),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const spawnError = new Promise<never>((_, reject) =>
    child.on('error', (e) => reject(gitError(['cat-file'], e, stderr))),
  );
  spawnError.catch(() => {});
  child.stdin.on('error', () => {}); // git exiting early is reported through its output
  child.stdin.end(ids.map((i) => `${i}\n`).join(''));
  let buf = Buffer.alloc(0);
  const it = child.stdout[Symbol.asyncIterator]();
  const more = async (): Promise<boolean> => {
    const r = await Promise.race([it.next(), spawnError]);
    if (r.done) return false;
    buf = Buffer.concat([buf, r.value as Buffer]);
    return true;
  };
  try {
    for (const id of ids) {
      let nl: number;
      while ((nl = buf.indexOf(0x0a)) < 0)
        if (!(await more())) throw gitError(['cat-file'], new Error('output ended early'), stderr);
      const header = buf.subarray(0, nl).toString();
      const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(header);
      if (!m) throw new SignetError('not-found', 'NO_SUCH_OBJECT', `git cat-file: ${header}`);
      const size = Number(m[3]);
      while (buf.length < nl + 1 + size + 1)
        if (!(await more())) throw gitError(['cat-file'], new Error('output ended early'), stderr);
      const raw = new Uint8Array(buf.subarray(nl + 1, nl + 1 + size));
      buf = buf.subarray(nl + 1 + size + 1);
      // The bytes must be the object the ID names, however git came by them (a replace ref
      // from another git's settings, grafts, a corrupt or doctored object store).
      const type = m[2]!;
      if (objectId(type, raw, objectFormatOfId(id)) !== id)
        throw new SignetError(
          'verification',
          'OBJECT_ID_MISMATCH',
          `git gave a ${type} for ${id} whose contents hash to another ID (a replace ref, or a damaged repository): refused`,
        );
      yield { id, type, raw };
    }
  } finally {
    child.kill();
  }
}

/**
 * The committer git records for a new commit or tag (`git var GIT_COMMITTER_IDENT`: the
 * GIT_COMMITTER_* environment, then user.name and user.email).
 */
export async function committerOf(repoDir: string): Promise<{ name: string; email: string }> {
  const ident = (await git(repoDir, ['var', 'GIT_COMMITTER_IDENT'])).toString().trim();
  const m = /^(.*?) ?<([^<>]*)> \d+ [+-]\d{4}$/.exec(ident);
  if (!m)
    throw new SignetError(
      'invalid-input',
      'INVALID_INPUT',
      `git's committer identity "${ident}" is not "Name <email>"`,
      { field: 'user.email' },
    );
  return { name: m[1]!, email: m[2]! };
}

/**
 * The name the annotated tag `rev` is verified under: the name its signed object gives itself.
 * When `rev` is a ref under refs/tags/, it must be that name: a tag ref pointed at another
 * release's signed tag object (v1.0 at the signed v0.9) is refused, not reported as v1.0.
 */
export async function signedTagName(
  repoDir: string,
  rev: string,
  raw: Uint8Array,
): Promise<string> {
  // resolveObject has refused a `rev` that git would read as an option.
  const signed = tagNameOf(raw);
  if (signed === undefined)
    throw new SignetError('verification', 'TAG_NAME_MISMATCH', `tag ${rev} has no tag name header`);
  const full = (
    await git(repoDir, ['rev-parse', '--symbolic-full-name', rev]).catch(() => Buffer.alloc(0))
  )
    .toString()
    .trim();
  const refName = full.startsWith('refs/tags/') ? full.slice('refs/tags/'.length) : undefined;
  if (refName !== undefined && refName !== signed)
    throw new SignetError(
      'verification',
      'TAG_NAME_MISMATCH',
      `refs/tags/${refName} points at the tag signed as "${signed}": the signature is for ${signed}, not ${refName}`,
    );
  return signed;
}
