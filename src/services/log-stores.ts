import { checkStore } from '../log/index.ts';

/** The SQLite file in the data folder that holds each log service's logs (without --database). */
export const LOG_FILES = { ctlog: 'ctlog.sqlite', rekor: 'rekor.sqlite' } as const;

/**
 * Refuses a data folder whose log stores (its SQLite files, or the --database) belong to
 * something else or cannot be read, before anything is written: each service would look only
 * when it opens its log, after the services before it made their keys (a new folder) or
 * started (a folder with keys, whose file another application's may have replaced). The look
 * is read-only and creates nothing that opening the store would not (storeContents), so
 * Signet's own stores, also those of a stack that was killed (a WAL log beside them), are
 * opened by their services as before; a store that is missing is theirs to refuse too, naming
 * the log that is recorded for it (log-records.ts).
 */
export async function checkLogStores(dataDir: string, databaseUrl?: string): Promise<void> {
  if (databaseUrl !== undefined) return checkStore({ dataDir, databaseUrl });
  for (const sqliteFile of Object.values(LOG_FILES)) await checkStore({ dataDir, sqliteFile });
}
