/** Shared set-up for the log tests: the same tests run on SQLite and on PostgreSQL. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { freshDatabase } from '../helpers/postgres.ts';
import { openLog, type OpenLogOptions, type TileLog } from '../../src/log/index.ts';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A data dir and (for PostgreSQL) a database URL; several logs may share them. */
  dataDir: string;
  databaseUrl: string | undefined;
  open(opts: Partial<OpenLogOptions> & { name: string; key?: KeyObject }): Promise<TileLog>;
  cleanup(): Promise<void>;
}

export const ED_KEY = generateKeyPairSync('ed25519').privateKey;
export const ORIGIN = 'log.example/test';

export async function backend(name: 'sqlite' | 'postgres'): Promise<Backend> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-log-'));
  const db = name === 'postgres' ? await freshDatabase() : undefined;
  return {
    name,
    dataDir,
    databaseUrl: db?.url,
    open(opts) {
      const { key, ...rest } = opts;
      return openLog({
        dataDir,
        ...(db && { databaseUrl: db.url }),
        signer: { key: key ?? ED_KEY, origin: ORIGIN },
        ...rest,
      });
    },
    async cleanup() {
      await db?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const BACKENDS = ['sqlite', 'postgres'] as const;
