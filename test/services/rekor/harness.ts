import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createService, serviceContext } from '../context.ts';
import { bindServer, createApp } from '../../../src/services/http/app.ts';
import { rekorService, type RekorServiceModule } from '../../../src/services/rekor/service.ts';

/** Signet's Rekor alone on a loopback port (real HTTP, real SQLite or PostgreSQL). */
export interface RekorServer {
  url: string;
  /** `${url}/rekor` */
  rekor: string;
  dataDir: string;
  service: RekorServiceModule;
  close(): Promise<void>;
}

export async function startRekor(
  opts: { dataDir?: string; databaseUrl?: string; config?: Record<string, unknown> } = {},
): Promise<RekorServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rekor-'));
  const { server, url } = await bindServer(0, '127.0.0.1');
  const service = await createService(
    rekorService,
    serviceContext({ dataDir, baseUrl: url, databaseUrl: opts.databaseUrl }),
    { batchMaxAgeMs: 1, ...opts.config },
  );
  const app = createApp({}, () => server as http.Server);
  await app.register(async (scope) => service.register(scope), { prefix: '/rekor' });
  await app.ready();
  return {
    url,
    rekor: `${url}/rekor`,
    dataDir,
    service,
    async close() {
      await app.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await service.close();
    },
  };
}
