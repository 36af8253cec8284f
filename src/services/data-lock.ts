import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignetError } from '../core/errors.ts';
import { parseJsonText } from '../core/json.ts';

/**
 * Who uses a data folder: one file per process under `<data>/run/`, written and checked under a
 * short-lived mutex (`run/.mutex`, created exclusively) so two starts cannot both win.
 *
 * - A stack on SQLite owns its folder alone: a second `signet up`, a `signet rotate` or a
 *   `signet restore` on it is refused with a message naming the running process.
 * - Stacks on one PostgreSQL database may share a folder (replicas, as designed): they are
 *   refused only when the folder is held by a SQLite stack or a stack on another database.
 * - A witness (`signet witness`) owns its folder alone: it reads its state once and writes it
 *   whole, so a second one on the folder would cosign from a state the first moves on from
 *   (two histories under one key).
 * - An entry whose process is gone (killed with -9, machine rebooted) is stale and removed.
 */
export type LockMode = 'sqlite' | 'postgres' | 'maintenance' | 'witness';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** Kernel start time of the process (Linux), so a reused pid is not mistaken for the holder. */
  procStart?: string;
  mode: LockMode;
  /** SHA-256 of the database URL (never the URL itself: it may hold a password). */
  database?: string;
  /** What the process is: `signet up`, `signet rotate`, `signet witness`, ... */
  what: string;
  since: string;
}

export interface DataLock {
  readonly file: string;
  release(): void;
  /**
   * Releases the lock and removes the folders acquiring it made, each only while empty: a start
   * that fails before writing anything (its port taken, its host not this machine's), or that
   * removed what it wrote (data-undo.ts), leaves a new data folder as it found it, so
   * `signet restore` still takes it.
   */
  releaseAndUnmake(): void;
}

const MUTEX_STALE_MS = 10_000;
const MUTEX_WAIT_MS = 5_000;

/** Fields 3 on of /proc/PID/stat (after the parenthesised command name), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function procStart(pid: number): string | undefined {
  return procStat(pid)?.[19]; // field 22, starttime
}

function alive(h: LockHolder): boolean {
  if (h.hostname !== os.hostname()) return true; // cannot tell: assume it runs
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(h.pid);
  // A zombie (state Z: killed, not yet reaped by its parent) holds nothing any more.
  if (stat?.[0] === 'Z') return false;
  const now = stat?.[19];
  return h.procStart === undefined || now === undefined || now === h.procStart;
}

function dataDirError(dataDir: string, e: unknown): SignetError {
  return new SignetError(
    'invalid-input',
    'DATA_DIR',
    `cannot use ${dataDir} as the data folder: ${(e as Error).message}`,
    { cause: e },
  );
}

/**
 * The data folder holds the private keys the stack signs with (its CA's, its logs'): a folder
 * another user owns, or any user may write to, lets them put their own key in its place, which
 * the stack then serves in its trusted root. Refused as ssh refuses such a ~/.ssh; a folder
 * writable by its group is left to whoever granted the group.
 */
function notOpenToOthers(dir: string): void {
  let st: import('node:fs').Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return; // not made yet: it is made 0700
  }
  const me = process.getuid?.();
  if (me !== undefined && st.uid !== me && st.uid !== 0)
    throw new SignetError(
      'invalid-input',
      'DATA_DIR',
      `cannot use the data folder: ${dir} belongs to another user (uid ${st.uid}), who could replace the keys in it`,
    );
  if ((st.mode & 0o002) !== 0)
    throw new SignetError(
      'invalid-input',
      'DATA_DIR',
      `cannot use the data folder: every user may write to ${dir} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}), so anyone could replace the keys: chmod o-w ${dir}`,
    );
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync spins forever on some paths (under
 * /proc it keeps getting ENOENT for a parent that "exists"), which hung `signet up --data
 * /proc/...` past SIGTERM. Returns the folders it made, outermost first.
 */
export function makeDirs(dir: string): string[] {
  const abs = path.resolve(dir);
  const parts = abs.split(path.sep).filter((p) => p !== '');
  const made: string[] = [];
  let cur: string = path.sep;
  for (const p of parts) {
    cur = path.join(cur, p);
    try {
      fs.mkdirSync(cur, { mode: 0o700 });
      made.push(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return made;
}

/**
 * Removes the folders `made` (as makeDirs returned them), innermost first, each only while it
 * is empty: rmdir never removes what another process put there meanwhile.
 */
export function unmakeDirs(made: string[]): void {
  for (const dir of [...made].reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch {
      return; // not empty (or gone): it and the folders around it stay
    }
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withMutex<T>(runDir: string, fn: () => T): T {
  const mutex = path.join(runDir, '.mutex');
  const deadline = Date.now() + MUTEX_WAIT_MS;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(mutex, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(mutex).mtimeMs > MUTEX_STALE_MS) fs.rmSync(mutex);
      } catch {
        // gone meanwhile: retry
      }
      if (Date.now() > deadline)
        throw new SignetError(
          'unavailable',
          'DATA_DIR_BUSY',
          `${mutex} is held by another process`,
        );
      sleep(20);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(mutex, { force: true });
  }
}

function readHolders(runDir: string): Array<{ file: string; holder: LockHolder }> {
  const out: Array<{ file: string; holder: LockHolder }> = [];
  for (const name of fs.readdirSync(runDir)) {
    if (!name.endsWith('.json')) continue;
    const file = path.join(runDir, name);
    try {
      out.push({ file, holder: parseJsonText(fs.readFileSync(file), 'lock', file) as LockHolder });
    } catch {
      // half-written by a process that died: stale
      fs.rmSync(file, { force: true });
    }
  }
  return out;
}

export function describeHolder(h: LockHolder): string {
  const where = h.hostname === os.hostname() ? '' : ` on host ${h.hostname}`;
  return `${h.what} (pid ${h.pid}${where}, since ${h.since})`;
}

/** The live processes using `dataDir` (stale entries are removed). */
export function dataDirHolders(dataDir: string): LockHolder[] {
  const runDir = path.join(dataDir, 'run');
  if (!fs.existsSync(runDir)) return [];
  return withMutex(runDir, () => live(runDir));
}

function live(runDir: string): LockHolder[] {
  const out: LockHolder[] = [];
  for (const { file, holder } of readHolders(runDir)) {
    if (alive(holder)) out.push(holder);
    else fs.rmSync(file, { force: true });
  }
  return out;
}

/**
 * Creates `dataDir` if needed (mode 0700) and registers this process in it, or throws:
 * DATA_DIR when the folder cannot be created or written (a read-only or impossible path fails
 * here at once), DATA_DIR_IN_USE when another process holds it in a way that excludes us.
 */
export function acquireDataLock(
  dataDir: string,
  me: { mode: LockMode; databaseUrl?: string; what: string },
): DataLock {
  const runDir = path.join(dataDir, 'run');
  let made: string[] = [];
  try {
    made = makeDirs(runDir);
    fs.accessSync(runDir, fs.constants.W_OK);
  } catch (e) {
    throw dataDirError(dataDir, e);
  }
  try {
    for (const dir of [dataDir, path.join(dataDir, 'keys')]) notOpenToOthers(dir);
  } catch (e) {
    unmakeDirs(made);
    throw e;
  }
  const database =
    me.databaseUrl === undefined
      ? undefined
      : createHash('sha256').update(me.databaseUrl).digest('hex');
  const holder: LockHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    mode: me.mode,
    what: me.what,
    since: new Date().toISOString(),
  };
  const start = procStart(process.pid);
  if (start !== undefined) holder.procStart = start;
  if (database !== undefined) holder.database = database;
  const file = path.join(runDir, `${process.pid}-${randomBytes(4).toString('hex')}.json`);
  try {
    withMutex(runDir, () => {
      const others = live(runDir);
      const blocking = others.filter(
        (o) => me.mode !== 'postgres' || o.mode !== 'postgres' || o.database !== holder.database,
      );
      if (blocking.length > 0)
        throw new SignetError(
          'conflict',
          'DATA_DIR_IN_USE',
          `the data folder ${dataDir} is in use by ${blocking.map(describeHolder).join(', ')}; stop it first or use another data folder` +
            (me.mode === 'postgres'
              ? ' (stacks may share a folder only on one PostgreSQL database)'
              : ''),
        );
      fs.writeFileSync(file, `${JSON.stringify(holder)}\n`, { mode: 0o600, flag: 'wx' });
    });
  } catch (e) {
    unmakeDirs(made);
    if (e instanceof SignetError) throw e;
    throw dataDirError(dataDir, e);
  }
  held.add(file);
  if (held.size === 1 && !exitHook) {
    exitHook = true;
    // A process that exits without closing its stack still leaves the folder free.
    process.on('exit', () => {
      for (const f of held) fs.rmSync(f, { force: true });
    });
  }
  const release = (): void => {
    if (held.delete(file)) fs.rmSync(file, { force: true });
  };
  return {
    file,
    release,
    releaseAndUnmake() {
      release();
      unmakeDirs(made);
    },
  };
}

const held = new Set<string>();
let exitHook = false;
