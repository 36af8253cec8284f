import fs from 'node:fs';
import type http from 'node:http';
import { bindServer, createApp } from './http/app.ts';
import { jsonLogger } from './logger.ts';
import type { BundleCheck } from './explorer/check.ts';
import type { Logger, ServiceFactory, ServiceModule, StackContext } from './types.ts';

export interface StackOptions {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** Public URL when the stack sits behind a proxy; default is the bound address. */
  publicUrl?: string;
  /** Per-service config sections (from the config file), keyed by service name. */
  config?: Record<string, Record<string, unknown>>;
  log?: Logger;
  /** Checks bundles dropped on the explorer (`signet up` passes the client's verifier). */
  checkBundle?: BundleCheck;
}

export interface RunningStack {
  url: string;
  services: Map<string, ServiceModule>;
  close(): Promise<void>;
}

/**
 * The services of `signet up`, in creation order (DESIGN.md "Running it"). A later service may
 * look up an earlier one in `ctx.services` (the CA needs the CT log; TUF needs every
 * service's trust contribution). Each entry is loaded lazily so one service can run alone.
 */
export const SERVICES: Array<{ name: string; load: () => Promise<ServiceFactory> }> = [
  // Each line is enabled by the work that builds the service (factory signature: ServiceFactory).
  { name: 'oidc', load: async () => (await import('./oidc/service.ts')).createOidcService },
  { name: 'ctlog', load: async () => (await import('./ctlog/service.ts')).createCtlogService },
  { name: 'ca', load: async () => (await import('./ca/service.ts')).createCaService },
  { name: 'rekor', load: async () => (await import('./rekor/service.ts')).createRekorService },
  { name: 'tsa', load: async () => (await import('./tsa/service.ts')).createTsaService },
  { name: 'tuf', load: async () => (await import('./tuf/service.ts')).createTufService },
  // After the log (it reads the shards) and TUF (it checks bundles against the trusted root).
  {
    name: 'explorer',
    load: async () => (await import('./explorer/service.ts')).createExplorerService,
  },
];

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const log = opts.log ?? jsonLogger();
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const { server, url: boundUrl } = await bindServer(opts.port, opts.host);
  const baseUrl = (opts.publicUrl ?? boundUrl).replace(/\/+$/, '');
  const services = new Map<string, ServiceModule>();
  const app = createApp({}, () => server as http.Server);
  try {
    for (const s of SERVICES) {
      const ctx: StackContext = {
        dataDir: opts.dataDir,
        baseUrl,
        databaseUrl: opts.databaseUrl,
        config: opts.config?.[s.name] ?? {},
        log,
        services,
        checkBundle: opts.checkBundle,
      };
      const factory = await s.load();
      const mod = await factory(ctx);
      services.set(mod.name, mod);
      await app.register(async (scope) => mod.register(scope), { prefix: mod.prefix });
    }
    app.get('/healthz', async () => ({ status: 'ok', services: [...services.keys()] }));
    await app.ready();
  } catch (e) {
    await closeAll(services, log);
    server.close();
    throw e;
  }
  log.info('stack started', {
    url: baseUrl,
    dataDir: opts.dataDir,
    services: [...services.keys()],
  });
  return {
    url: baseUrl,
    services,
    async close() {
      await app.close();
      // fastify does not own a server handed in through serverFactory: close it here.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await closeAll(services, log);
    },
  };
}

async function closeAll(services: Map<string, ServiceModule>, log: Logger): Promise<void> {
  for (const s of [...services.values()].reverse()) {
    try {
      await s.close();
    } catch (e) {
      log.error('service failed to close', { service: s.name, error: (e as Error).message });
    }
  }
}
