/**
 * Writing several git config settings as one change. git writes one setting per `git config`
 * run, each under the config file's lock (`<config>.lock`); a run that fails (the lock held by
 * another git, a key with several values) would leave the settings before it written.
 */
import { reasonOf, SignetError } from '../../core/errors.ts';
import { git } from './repo.ts';

/**
 * The values `key` has in the config file of `scope`, in order: `null` for a key written
 * without `= value` (git's true), none when it is unset.
 */
async function valuesOf(dir: string, scope: string, key: string): Promise<Array<string | null>> {
  const pattern = `^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  let out: string;
  try {
    out = (await git(dir, ['config', scope, '-z', '--get-regexp', pattern])).toString();
  } catch (e) {
    // Exit status 1: no such key. Anything else (an unreadable file) is the caller's error.
    if ((e as { cause?: { code?: unknown } }).cause?.code === 1) return [];
    throw e;
  }
  // Each entry: the key, then "\n" and the value unless it has none, then NUL.
  return out
    .split('\0')
    .slice(0, -1)
    .map((entry) => (entry.includes('\n') ? entry.slice(entry.indexOf('\n') + 1) : null));
}

/** What git said, without the "git config: " repo.ts leads it with. */
const gitReason = (e: unknown): string => reasonOf(e).replace(/^git config: /, '');

/** Where git's "could not lock" comes from, which git does not say: `<config>.lock`. */
function lockHint(e: unknown): string {
  const file = /could not lock config file (.+): File exists/.exec(reasonOf(e))?.[1];
  return file === undefined
    ? ''
    : `: another git is writing it, or one that stopped left ${file}.lock behind`;
}

/** Puts `key` back to `values` (at most one: a key with more could not have been set). */
async function restore(
  dir: string,
  scope: string,
  key: string,
  values: Array<string | null>,
): Promise<void> {
  const [value] = values;
  if (value === undefined) await git(dir, ['config', scope, '--unset', '--', key]);
  // A key without "= value" cannot be written so by `git config`: "true" means the same.
  else await git(dir, ['config', scope, '--', key, value ?? 'true']);
}

/**
 * Sets every `[key, value]` in the config file of `scope` (`--local` or `--global`), or none:
 * when one cannot be set, those set before it are put back as they were (unset if they were
 * unset) and the error says, in one line, which failed and why, and what it left.
 */
export async function setGitConfig(
  dir: string,
  scope: '--local' | '--global',
  settings: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  const before = new Map<string, Array<string | null>>();
  for (const [key] of settings) before.set(key, await valuesOf(dir, scope, key));
  const done: string[] = [];
  for (const [key, value] of settings) {
    try {
      await git(dir, ['config', scope, '--', key, value]);
      done.push(key);
    } catch (e) {
      const stuck: string[] = [];
      let why = '';
      for (const k of [...done].reverse())
        await restore(dir, scope, k, before.get(k)!).catch((r: unknown) => {
          stuck.unshift(k);
          why = gitReason(r);
        });
      const was = (k: string): string => {
        const [v] = before.get(k)!;
        return v === undefined ? 'unset' : v === null ? 'true' : JSON.stringify(v);
      };
      const left =
        done.length === 0
          ? 'nothing was changed'
          : stuck.length === 0
            ? `${done.join(', ')} ${done.length === 1 ? 'was' : 'were'} put back as before, so nothing was changed`
            : `${stuck.map((k) => `${k} (was ${was(k)})`).join(', ')} could not be put back (${why}): set by hand`;
      throw new SignetError(
        e instanceof SignetError ? e.kind : 'internal',
        'GIT_FAILED',
        `git config ${scope}: could not set ${key} (${gitReason(e)}${lockHint(e)}); ${left}`,
        { cause: e },
      );
    }
  }
}
