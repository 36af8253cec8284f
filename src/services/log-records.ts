import fs from 'node:fs';
import path from 'node:path';
import { SignetError } from '../core/errors.ts';
import { openLog, type OpenLogOptions, type TileLog } from '../log/index.ts';
import { parseJsonText } from '../core/json.ts';
import { writeOnce } from './write-once.ts';

/**
 * A record, in the data folder, of each log its keys sign for: `logs/<name>.json`, written
 * once the log is in its store. The keys sign checkpoints; started against another store (no
 * --database for logs in PostgreSQL, another database, SQLite files left behind, a restored
 * backup of a PostgreSQL stack, which holds no logs), the stack would make a new empty log
 * under the same key and origin: a second history of a log whose entries and checkpoints are
 * already out, signed by its real key. A recorded log must be found instead.
 */
interface LogRecord {
  name: string;
  store: 'sqlite' | 'postgres';
  recordedAt: string;
}

/** Logs a stack started by an earlier version made on its first start (no records then). */
const FIRST_LOGS = new Set(['ctlog', 'rekor-1']);

export async function openRecordedLog(
  opts: OpenLogOptions & { dataDir: string },
): Promise<TileLog> {
  const dir = path.join(opts.dataDir, 'logs');
  const file = path.join(dir, `${opts.name}.json`);
  const record = fs.existsSync(file)
    ? (parseJsonText(fs.readFileSync(file), `log record ${opts.name}`, file) as LogRecord)
    : undefined;
  // A folder from before the records in which a stack has started (it published TUF metadata).
  const legacy =
    !fs.existsSync(dir) &&
    FIRST_LOGS.has(opts.name) &&
    fs.existsSync(path.join(opts.dataDir, 'tuf', 'metadata', '1.root.json'));
  let log: TileLog;
  try {
    log = await openLog({ ...opts, create: record === undefined && !legacy });
  } catch (e) {
    if (!(e instanceof SignetError && e.code === 'LOG_MISSING')) throw e;
    const store =
      record?.store === 'postgres'
        ? 'it is in PostgreSQL: give --database with the database that holds it (a backup of a stack on PostgreSQL has keys and TUF metadata only; restore the database with pg_restore)'
        : record?.store === 'sqlite'
          ? `it is in SQLite files of the data folder: start without --database, with the folder that holds them`
          : 'start with the store that holds it (--database for PostgreSQL; none for the SQLite files of the data folder)';
    throw new SignetError(
      'conflict',
      'LOG_MISSING',
      `${e.message}, but the keys of ${opts.dataDir} sign for it: an empty log under the same key would fork the one whose entries and checkpoints are out. Nothing was changed; ${store}`,
      { cause: e },
    );
  }
  if (!record) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const rec: LogRecord = {
      name: opts.name,
      store: opts.databaseUrl ? 'postgres' : 'sqlite',
      recordedAt: new Date().toISOString(),
    };
    writeOnce(file, `${JSON.stringify(rec, null, 2)}\n`);
  }
  return log;
}
