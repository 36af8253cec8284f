import fs from 'node:fs';
import path from 'node:path';
import { checkStore } from '../log/index.ts';

/** The SQLite file in the data folder that holds each log service's logs (without --database). */
export const LOG_FILES = { ctlog: 'ctlog.sqlite', rekor: 'rekor.sqlite' } as const;

/**
 * Refuses a new data folder whose log stores (its SQLite files, or the --database) belong to
 * something else or cannot be read, before any service makes its keys there: each service
 * would look only when it opens its log, after the keys of the services before it are made.
 * A folder with keys is Signet's (every start makes keys first) and is left to the services,
 * whose refusals for it say more (a recorded log that is missing, log-records.ts).
 */
export async function checkNewFolderStores(dataDir: string, databaseUrl?: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'keys'))) return;
  if (databaseUrl !== undefined) return checkStore({ dataDir, databaseUrl });
  for (const sqliteFile of Object.values(LOG_FILES)) await checkStore({ dataDir, sqliteFile });
}
