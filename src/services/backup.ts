import fs from 'node:fs';
import path from 'node:path';
import { backup as sqliteBackup, DatabaseSync } from 'node:sqlite';
import { describeSystemError, SignetError } from '../core/errors.ts';
import { acquireDataLock, makeDirs } from './data-lock.ts';

/**
 * `signet backup` / `signet restore` for a stack on SQLite. The databases are copied with
 * SQLite's online backup API in one step, i.e. inside one read transaction: the copy is the
 * committed state at one instant (WAL readers do not block the running stack's writer), so every
 * checkpoint the stack published before the backup is a prefix of the copied tree. Keys, the
 * TUF repository and the rest of the folder are copied as files (they change only on `rotate`,
 * which is refused while the stack runs, or when TUF metadata is re-signed, which keeps old
 * versions). Logs kept in PostgreSQL are backed up with PostgreSQL's own tools (pg_dump).
 */
const SKIP = /(^|\/)(run|\.mutex)$|\.sqlite-(wal|shm|journal)$|\.tmp$|(^|\/)publish\.lock$/;

export interface BackupReport {
  files: number;
  databases: Array<{ file: string; logs: Array<{ name: string; size: number }> }>;
}

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (SKIP.test(r)) continue;
    if (e.isDirectory()) out.push(...walk(root, r));
    else if (e.isFile() || (e.isSymbolicLink() && linkedFile(path.join(root, r)))) out.push(r);
  }
  return out;
}

/**
 * Whether a link points to a file: a log's database kept on another disk is linked from the
 * data folder, and is copied as what it points to (a link to nothing would leave it out).
 */
function linkedFile(file: string): boolean {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st === undefined)
    throw new SignetError(
      'invalid-input',
      'DATA_DIR',
      `cannot copy ${file}: it is a symbolic link to ${path.resolve(path.dirname(file), fs.readlinkSync(file))}, which does not exist`,
    );
  return st.isFile();
}

/**
 * A write into the backup or the data folder that failed, as one line naming the file and why
 * (SQLite's errors name no file, and Node's carry errno text).
 */
function writeFailed(what: string, file: string, e: unknown): SignetError {
  if (e instanceof SignetError) return e;
  return new SignetError(
    'invalid-input',
    'DATA_DIR',
    `cannot write ${what}: ${describeSystemError(e, file)}`,
    { cause: e },
  );
}

function writing<T>(what: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw writeFailed(what, file, e);
  }
}

/** `dir` made if need be, empty, and writable: checked before anything is copied into it. */
function emptyTarget(dir: string, what: string): void {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
    throw new SignetError(
      'conflict',
      'NOT_EMPTY',
      `${what} ${dir} is not empty: give a new or empty folder`,
    );
  try {
    makeDirs(dir);
  } catch (e) {
    throw new SignetError(
      'invalid-input',
      'DATA_DIR',
      `cannot create ${what} ${dir}: ${describeSystemError(e, dir)}`,
      { cause: e },
    );
  }
  // An existing folder this process may not write (its mode, `chattr +i`, a read-only mount).
  writing(`${what} ${dir}`, dir, () => fs.accessSync(dir, fs.constants.W_OK));
}

function logSizes(file: string): Array<{ name: string; size: number }> {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db.prepare('SELECT name, size FROM tlog_logs ORDER BY name').all() as Array<{
      name: string;
      size: number;
    }>;
    return rows.map((r) => ({ name: r.name, size: Number(r.size) }));
  } finally {
    db.close();
  }
}

/** Copies the data folder `dataDir` (running or not) into the new or empty folder `out`. */
export async function backupDataDir(dataDir: string, out: string): Promise<BackupReport> {
  if (!fs.existsSync(path.join(dataDir, 'keys')))
    throw new SignetError(
      'not-found',
      'NO_DATA',
      `${dataDir} is not a data folder of a stack (no keys/ in it)`,
    );
  const what = `the backup folder ${out}`;
  const files = walk(dataDir); // first: a link to nothing is refused with no backup folder made
  emptyTarget(out, 'the backup folder');
  const report: BackupReport = { files: 0, databases: [] };
  for (const rel of files) {
    const src = path.join(dataDir, rel);
    const dst = path.join(out, rel);
    writing(what, path.dirname(dst), () =>
      fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 }),
    );
    if (rel.endsWith('.sqlite')) {
      const db = new DatabaseSync(src, { readOnly: true });
      try {
        // Every page in one step, so one read transaction: the copy is one instant.
        await sqliteBackup(db, dst, { rate: 2 ** 31 - 1 });
      } catch (e) {
        throw writeFailed(what, dst, e);
      } finally {
        db.close();
      }
      writing(what, dst, () => fs.chmodSync(dst, 0o600));
      report.databases.push({ file: rel, logs: logSizes(dst) });
    } else {
      writing(what, dst, () => {
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, fs.statSync(src).mode & 0o777);
      });
    }
    report.files++;
  }
  const manifest = path.join(out, 'backup.json');
  writing(what, manifest, () =>
    fs.writeFileSync(
      manifest,
      `${JSON.stringify({ createdAt: new Date().toISOString(), from: path.resolve(dataDir), ...report }, null, 2)}\n`,
      { mode: 0o600 },
    ),
  );
  return report;
}

/**
 * Copies a backup into the new or empty data folder `dataDir`. Restoring over a folder with a
 * log would roll the log back behind checkpoints it may have published since: refused.
 */
export function restoreDataDir(backupDir: string, dataDir: string): BackupReport {
  if (!fs.existsSync(path.join(backupDir, 'backup.json')))
    throw new SignetError(
      'invalid-input',
      'NOT_A_BACKUP',
      `${backupDir} is not a signet backup (no backup.json in it)`,
    );
  const what = `the data folder ${dataDir}`;
  emptyTarget(dataDir, 'the data folder');
  const lock = acquireDataLock(dataDir, { mode: 'maintenance', what: 'signet restore' });
  const report: BackupReport = { files: 0, databases: [] };
  try {
    for (const rel of walk(backupDir)) {
      if (rel === 'backup.json') continue;
      const src = path.join(backupDir, rel);
      const dst = path.join(dataDir, rel);
      writing(what, dst, () => {
        fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 });
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, fs.statSync(src).mode & 0o777);
      });
      if (rel.endsWith('.sqlite')) report.databases.push({ file: rel, logs: logSizes(dst) });
      report.files++;
    }
  } finally {
    lock.release();
  }
  return report;
}
