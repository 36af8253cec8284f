import fs from 'node:fs';
import path from 'node:path';
import { backup as sqliteBackup, DatabaseSync } from 'node:sqlite';
import { SignetError } from '../core/errors.ts';
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
    else if (e.isFile()) out.push(r);
  }
  return out;
}

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
      `cannot create ${dir}: ${(e as Error).message}`,
    );
  }
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
  emptyTarget(out, 'the backup folder');
  const report: BackupReport = { files: 0, databases: [] };
  for (const rel of walk(dataDir)) {
    const src = path.join(dataDir, rel);
    const dst = path.join(out, rel);
    fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 });
    if (rel.endsWith('.sqlite')) {
      const db = new DatabaseSync(src, { readOnly: true });
      try {
        // Every page in one step, so one read transaction: the copy is one instant.
        await sqliteBackup(db, dst, { rate: 2 ** 31 - 1 });
      } finally {
        db.close();
      }
      fs.chmodSync(dst, 0o600);
      report.databases.push({ file: rel, logs: logSizes(dst) });
    } else {
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, fs.statSync(src).mode & 0o777);
    }
    report.files++;
  }
  fs.writeFileSync(
    path.join(out, 'backup.json'),
    `${JSON.stringify({ createdAt: new Date().toISOString(), from: path.resolve(dataDir), ...report }, null, 2)}\n`,
    { mode: 0o600 },
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
  emptyTarget(dataDir, 'the data folder');
  const lock = acquireDataLock(dataDir, { mode: 'maintenance', what: 'signet restore' });
  const report: BackupReport = { files: 0, databases: [] };
  try {
    for (const rel of walk(backupDir)) {
      if (rel === 'backup.json') continue;
      const dst = path.join(dataDir, rel);
      fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 });
      fs.copyFileSync(path.join(backupDir, rel), dst);
      fs.chmodSync(dst, fs.statSync(path.join(backupDir, rel)).mode & 0o777);
      if (rel.endsWith('.sqlite')) report.databases.push({ file: rel, logs: logSizes(dst) });
      report.files++;
    }
  } finally {
    lock.release();
  }
  return report;
}
