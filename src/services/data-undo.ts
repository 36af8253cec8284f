import fs from 'node:fs';
import path from 'node:path';

/**
 * What a start that fails after binding its port leaves behind: the services made before the
 * one that failed have written their keys, certificates, log records and databases into the
 * data folder. `folderEntries` records what the folder holds before the services start, and
 * `removeAdded` removes, after they are closed, what was not there then: the folder as it was
 * found, except for the contents of files that were already there (never removed).
 */

/** Every entry under `root` (relative paths; links are entries, never followed). */
export function folderEntries(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return; // unreadable: nothing under it is taken, so nothing under it is removed
    }
    for (const e of entries) {
      const p = path.join(rel, e.name);
      out.add(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk('');
  return out;
}

/**
 * SQLite keeps a database's latest writes in `<db>-wal` (or `-journal`, with `-shm` the WAL's
 * index) until they are moved into it: beside a database that was there before, such a file is
 * part of that database.
 */
const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'];

function keptWith(rel: string, before: Set<string>): boolean {
  return SQLITE_COMPANIONS.some((s) => rel.endsWith(s) && before.has(rel.slice(0, -s.length)));
}

/**
 * Removes every entry under `root` that is not in `before` (as folderEntries returned it): a new
 * folder with all it holds, a new file or link. Entries that were there stay, and so do those
 * under `spare` (the data lock's `run/`, which other processes use too) and anything that cannot
 * be removed; what could not be removed is returned.
 */
export function removeAdded(root: string, before: Set<string>, spare: string[] = []): string[] {
  const left: string[] = [];
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(rel, e.name);
      if (spare.includes(p)) continue;
      if (before.has(p)) {
        if (e.isDirectory()) walk(p);
        continue;
      }
      if (keptWith(p, before)) continue;
      try {
        // A link is removed itself, never what it points to.
        fs.rmSync(path.join(root, p), { recursive: e.isDirectory(), force: true });
      } catch {
        left.push(p);
      }
    }
  };
  walk('');
  return left;
}
