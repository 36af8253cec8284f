import { openRegularFile, specialFileKind } from './read-file.ts';
import fs from 'node:fs';
import path from 'node:path';
import { backup as sqliteBackup, DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { describeSystemError, SignetError } from '../core/errors.ts';
import { acquireDataLock, type DataLock, makeDirs, unmakeDirs } from './data-lock.ts';

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
  /**
   * Backup: the folders inside the data folder that are backups themselves (a backup.json in
   * them), left out. Not in the backup's manifest.
   */
  leftOut?: string[];
}

/**
 * Backing up and restoring list their folder differently, on purpose:
 *
 * - `dataFiles` (backup) reads a live data folder, which its operator owns: a log's database
 *   kept on another disk is linked from it, and the link is followed (the backup holds a copy of
 *   what it points to, never a link). Other entries that are not files are left out.
 * - `backupFiles` (restore) reads a backup, which `signet backup` writes with files and folders
 *   only. A link in it was put there by someone else, and following it would copy whatever this
 *   process may read (/etc/shadow, another stack's keys) into the new data folder, whose
 *   tuf/targets the stack serves to anyone. So restore reads only regular files and folders,
 *   and refuses anything else (a link to a file or a folder, a FIFO, a device, a socket).
 */
function dataFiles(root: string, backups: string[], rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (SKIP.test(r)) continue;
    if (e.isDirectory()) {
      // A backup left inside the data folder (made before such an OUT was refused) is not the
      // stack's: copied, each backup would hold the ones before it, its logs listed twice.
      if (fs.existsSync(path.join(root, r, 'backup.json'))) backups.push(r);
      else out.push(...dataFiles(root, backups, r));
    } else if (e.isFile() || (e.isSymbolicLink() && linkedFile(path.join(root, r)))) out.push(r);
  }
  return out;
}

/** `p` with its links resolved, as far as it exists (the rest of it appended as given). */
function realPath(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPath(parent), path.basename(abs));
  }
}

/**
 * A backup folder `out` inside the data folder `dataDir` (or the folder itself), by their real
 * paths, is refused: the next backup would copy this one into itself.
 */
function checkOutside(dataDir: string, out: string): void {
  const rel = path.relative(realPath(dataDir), realPath(out));
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return;
  throw new SignetError(
    'invalid-input',
    'INVALID_INPUT',
    `the backup folder ${out} is ${rel === '' ? 'the data folder' : 'inside the data folder'} ${dataDir}: each later backup would copy it again, growing with every one; give a folder outside ${dataDir}`,
  );
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

/** A file of a backup, with the inode it had when listed (see copyBackupFile). */
interface BackupFile {
  rel: string;
  dev: number;
  ino: number;
}

/** The files of a backup (see dataFiles): any entry that is neither a file nor a folder is refused. */
function backupFiles(root: string, rel = ''): BackupFile[] {
  const out: BackupFile[] = [];
  for (const name of fs.readdirSync(path.join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (SKIP.test(r)) continue;
    const file = path.join(root, r);
    const st = fs.lstatSync(file);
    if (st.isDirectory()) out.push(...backupFiles(root, r));
    else if (st.isFile()) out.push({ rel: r, dev: st.dev, ino: st.ino });
    else throw notInBackup(file, st);
  }
  return out;
}

function notInBackup(file: string, st: fs.Stats): SignetError {
  return new SignetError(
    'invalid-input',
    'NOT_A_BACKUP',
    `${file} in the backup is ${specialFileKind(file, st)}: a signet backup holds only files and folders (backup copies what a link points to), so nothing was restored`,
  );
}

/**
 * Copies the backup's file `f` to `dst` (a new file), reading it only if it is still the
 * regular file listed: opened without following a link or blocking on a FIFO, and checked on
 * the descriptor that is read (same inode), so a file swapped for a link, or a folder above it
 * for a link, after the listing is refused instead of followed.
 */
function copyBackupFile(backupDir: string, f: BackupFile, dst: string, what: string): void {
  const src = path.join(backupDir, f.rel);
  let opened;
  try {
    opened = openRegularFile(src);
  } catch (e) {
    throw new SignetError(
      'invalid-input',
      'NOT_A_BACKUP',
      `cannot read the backup: ${describeSystemError(e, src)}`,
      { cause: e },
    );
  }
  if (opened === undefined)
    throw new SignetError(
      'invalid-input',
      'NOT_A_BACKUP',
      `cannot read the backup: ${src} does not exist; check the path`,
    );
  if ('refused' in opened) throw notInBackup(src, opened.refused);
  const { fd, stats: st } = opened;
  try {
    if (st.dev !== f.dev || st.ino !== f.ino)
      throw new SignetError(
        'conflict',
        'NOT_A_BACKUP',
        `${src} in the backup was replaced while it was restored: restore from a backup nothing writes to`,
      );
    writing(what, dst, () => {
      fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 });
      const out = fs.openSync(dst, 'wx', 0o600);
      try {
        const buf = Buffer.allocUnsafe(1 << 20);
        let n: number;
        while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
          let off = 0;
          while (off < n) off += fs.writeSync(out, buf, off, n - off);
        }
        fs.fchmodSync(out, st.mode & 0o777);
      } finally {
        fs.closeSync(out);
      }
    });
  } finally {
    fs.closeSync(fd);
  }
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

/**
 * `dir` made if need be, empty, and writable: checked before anything is copied into it.
 * Returns the folders it made, outermost first.
 */
function emptyTarget(dir: string, what: string): string[] {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
    throw new SignetError(
      'conflict',
      'NOT_EMPTY',
      `${what} ${dir} is not empty: give a new or empty folder`,
    );
  let made: string[];
  try {
    made = makeDirs(dir);
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
  return made;
}

/**
 * The logs in the database `file`. `immutable`: read with no lock and no -wal or -shm file
 * written beside it, for a file nothing else writes (a backup, which may be read-only, and the
 * copy restore is making, which would otherwise leave them behind if the restore fails).
 */
function logSizes(file: string, immutable = false): Array<{ name: string; size: number }> {
  let at: string | URL = file;
  if (immutable) {
    at = pathToFileURL(path.resolve(file));
    at.searchParams.set('immutable', '1');
  }
  const db = new DatabaseSync(at, { readOnly: true });
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
  checkOutside(dataDir, out);
  const what = `the backup folder ${out}`;
  const leftOut: string[] = [];
  // First: a link to nothing is refused with no backup folder made.
  const files = dataFiles(dataDir, leftOut);
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
  return leftOut.length > 0 ? { ...report, leftOut } : report;
}

/**
 * The logs in a backup's database file `file`, or why it is not a Signet log database (a file
 * that is not SQLite, an SQLite file without Signet's tables), naming it.
 */
function backupLogs(file: string): Array<{ name: string; size: number }> {
  try {
    return logSizes(file, true);
  } catch (e) {
    throw new SignetError(
      'invalid-input',
      'NOT_A_BACKUP',
      `${file} in the backup is not a Signet log database: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * Copies a backup into the new or empty data folder `dataDir`. Restoring over a folder with a
 * log would roll the log back behind checkpoints it may have published since: refused.
 *
 * The backup is checked before anything is made (only files and folders, every database a
 * log); a restore that fails later (a full disk) removes what it made, so the folder is as it
 * was found, new or empty, and a retry takes it.
 */
export function restoreDataDir(backupDir: string, dataDir: string): BackupReport {
  if (!fs.existsSync(path.join(backupDir, 'backup.json')))
    throw new SignetError(
      'invalid-input',
      'NOT_A_BACKUP',
      `${backupDir} is not a signet backup (no backup.json in it)`,
    );
  const files = backupFiles(backupDir).filter((f) => f.rel !== 'backup.json');
  for (const f of files) if (f.rel.endsWith('.sqlite')) backupLogs(path.join(backupDir, f.rel));
  const what = `the data folder ${dataDir}`;
  const made = emptyTarget(dataDir, 'the data folder');
  const written = new Set<string>(); // the entries of dataDir this restore made
  let lock: DataLock | undefined;
  try {
    lock = acquireDataLock(dataDir, { mode: 'maintenance', what: 'signet restore' });
    const report: BackupReport = { files: 0, databases: [] };
    for (const f of files) {
      const dst = path.join(dataDir, f.rel);
      written.add(f.rel.split('/')[0]!);
      copyBackupFile(backupDir, f, dst, what);
      if (f.rel.endsWith('.sqlite')) {
        // Checked in the backup already: what fails here is the new folder (SQLite's own
        // limits, such as a path longer than 512 bytes).
        let logs: Array<{ name: string; size: number }>;
        try {
          logs = logSizes(dst, true);
        } catch (e) {
          throw new SignetError(
            'invalid-input',
            'DATA_DIR',
            `cannot open ${dst}, restored from the backup: ${(e as Error).message}`,
            { cause: e },
          );
        }
        report.databases.push({ file: f.rel, logs });
      }
      report.files++;
    }
    lock.release();
    return report;
  } catch (e) {
    // Best effort: the error that stopped the restore is the one to report.
    for (const name of written)
      try {
        fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
      } catch {
        // left for the operator; the folder is then not empty, and says so on a retry
      }
    lock?.releaseAndUnmake();
    unmakeDirs(made);
    throw e;
  }
}
