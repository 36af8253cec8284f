import type http from 'node:http';
import { invalid, reasonOf, SignetError } from '../core/errors.ts';
import { acquireDataLock } from './data-lock.ts';
import { folderEntries, removeAdded } from './data-undo.ts';
import { isLoopbackHost, isWildcardHost, exposureRisks } from './exposure.ts';
import { checkLogStores } from './log-stores.ts';
import { bindServer, createApp } from './http/app.ts';
import { checkListenHost, listenFailed, type ListenSettings } from './http/listen-host.ts';
import { type ErrorPage, sendError } from './http/errors.ts';
import { instrument, StackMetrics } from './metrics.ts';
import { jsonLogger } from './logger.ts';
import { readinessProbe } from './readiness.ts';
import type { BundleCheck } from './explorer/check.ts';
import type {
  Logger,
  ServiceDefinition,
  ServiceModule,
  ServiceName,
  StackContext,
  StackServices,
} from './types.ts';

export interface StackOptions {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** Public URL when the stack sits behind a proxy; default is the bound address. */
  publicUrl?: string;
  /** Per-service config sections (from the config file), keyed by service name. */
  config?: Record<string, Record<string, unknown>>;
  /**
   * The folder a relative path in `config` (`ca.issuers`, `ctlog.roots`, ...) is read from: the
   * config file's (`StackConfig.dir`). Default: the working folder.
   */
  configDir?: string;
  /**
   * How errors name the settings, by where each came from: `configFile` (the config file as
   * given) leads an error about a value in one of its sections (`signet.yaml: ca.keyType: ...`,
   * as readConfigFile's own errors are led); `publicUrl` and `database` name the flag, the
   * environment variable or the file's field that gave them (`--public-url`,
   * `SIGNET_PUBLIC_URL`, `signet.yaml: publicUrl`), and so do `host` and `port` (a bad
   * address, a busy port). A public URL that no setting gave, but a wildcard host requires, is
   * named where the host came from. Default: the setting's own name.
   */
  names?: {
    configFile?: string;
    publicUrl?: string;
    database?: string;
    host?: string;
    port?: string;
  };
  log?: Logger;
  /** Checks bundles dropped on the explorer (`signet up` passes the client's verifier). */
  checkBundle?: BundleCheck;
  /**
   * Listen on a non-loopback address although the CA trusts the built-in identity provider,
   * which signs anyone in without a password (exposure.ts): anyone who reaches the port can
   * then get certificates. Off by default: such a start is refused.
   */
  allowPublicTestIdentities?: boolean;
  /** One JSON line per request on the log (default on; `accessLog: false` turns it off). */
  accessLog?: boolean;
}

export interface RunningStack {
  url: string;
  /**
   * Where the server listens (`host:port`), when `url` is a public URL that does not say so (a
   * proxy in front, `--port 0`); undefined when `url` is the address it listens on.
   */
  listening?: string;
  /** Every service of the stack, in creation order. */
  services: Partial<StackServices>;
  /** Every route the stack serves (method and URL pattern), e.g. for a run that tries them all. */
  routes: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

/**
 * One service of the stack, its definition loaded lazily so one service can run alone: `parse`
 * takes its config section (throwing on a mistake, writing nothing) and returns what creates
 * the service and adds it to `ctx.services`.
 */
interface ServiceEntry {
  name: ServiceName;
  parse: (
    section: Record<string, unknown>,
    dir: string,
  ) => Promise<(ctx: StackContext) => Promise<ServiceModule>>;
}

function entry<K extends ServiceName>(
  name: K,
  load: () => Promise<ServiceDefinition<K>>,
): ServiceEntry {
  return {
    name,
    async parse(section, dir) {
      const definition = await load();
      const options = definition.parse(section, dir);
      return async (ctx) => {
        const mod = await definition.create(ctx, options);
        ctx.services[name] = mod;
        return mod;
      };
    },
  };
}

/**
 * The services of `signet up`, in creation order (DESIGN.md "Running it"). A later service
 * finds an earlier one in `ctx.services` (the CA needs the CT log; TUF needs every service's
 * trust contribution).
 */
export const SERVICES: ServiceEntry[] = [
  entry('oidc', async () => (await import('./oidc/service.ts')).oidcService),
  entry('ctlog', async () => (await import('./ctlog/service.ts')).ctlogService),
  entry('ca', async () => (await import('./ca/service.ts')).caService),
  entry('rekor', async () => (await import('./rekor/service.ts')).rekorService),
  entry('tsa', async () => (await import('./tsa/service.ts')).tsaService),
  entry('tuf', async () => (await import('./tuf/service.ts')).tufService),
  // After the log (it reads the shards) and TUF (it checks bundles against the trusted root).
  entry('explorer', async () => (await import('./explorer/service.ts')).explorerService),
];

/** The answer to every request while the stack is starting (no route is ready yet). */
function startingHandler(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = JSON.stringify({
    code: 503,
    message: 'signet is starting; retry shortly',
    error: 'STARTING',
  });
  res.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': '1',
  });
  res.end(body);
}

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const log = opts.log ?? jsonLogger();
  const settings: ListenSettings = {
    host: opts.names?.host ?? 'host',
    port: opts.names?.port ?? 'port',
  };
  // First: a mistyped address is named as such, not met later as a DNS error or an exposure.
  const host = await checkListenHost(opts.host, settings.host);
  // So is an address of no interface of this machine: not loopback, it would otherwise meet
  // the exposure refusal (and, allowed, the advice to set a public URL) before listen() said so.
  if (!isLoopbackHost(host) && !isWildcardHost(host)) await checkLocalAddress(host, settings);
  if (opts.publicUrl !== undefined)
    checkPublicUrl(opts.publicUrl, opts.names?.publicUrl ?? 'publicUrl');
  else if (isWildcardHost(host))
    // Named as the setting that gave the host (`--host 0.0.0.0`, `SIGNET_HOST 0.0.0.0`; in a
    // config file, whose name leads the error already, `host 0.0.0.0`).
    throw invalid(
      opts.names?.publicUrl ?? 'publicUrl',
      `is required with ${settings.host.slice(settings.host.lastIndexOf(': ') + 1).trimStart()} ${host}, which listens on every address: the stack publishes its URL (the CA, the logs, the TUF metadata), and each new log keeps it as its origin for good; set it to the URL clients reach the stack at`,
    );
  if (opts.databaseUrl !== undefined && !/^postgres(ql)?:\/\//i.test(opts.databaseUrl))
    throw invalid(
      opts.names?.database ?? 'database',
      'must be a postgres:// URL: PostgreSQL is the one database server the logs run on (leave it out for SQLite files in the data folder)',
    );
  // Every section, and the files it names, before anything is written: a mistake in the last
  // service's section must not leave the keys and files of the ones before it behind.
  const creators = [];
  const configDir = opts.configDir ?? process.cwd();
  for (const s of SERVICES) {
    const section = opts.config?.[s.name];
    try {
      creators.push(await s.parse(section ?? {}, configDir));
    } catch (e) {
      const file = opts.names?.configFile;
      throw section !== undefined && file !== undefined ? inConfigFile(e, file, s.name) : e;
    }
  }
  if (!isLoopbackHost(host)) {
    const risks = exposureRisks(opts.config?.['oidc'] ?? {}, opts.config?.['ca'] ?? {});
    if (risks.length > 0 && !opts.allowPublicTestIdentities)
      throw new SignetError(
        'invalid-input',
        'EXPOSED_TEST_IDENTITIES',
        `refusing to listen on ${host} (not loopback): ${risks.join('; ')}, so anyone who reaches the port could get signing certificates. ` +
          'Configure ca.issuers with the OIDC issuers to trust, listen on 127.0.0.1, or pass --insecure-public-test-identities if that is what you mean',
      );
    if (risks.length > 0)
      log.warn(
        `WARNING: listening on ${host} with the built-in provider's local-use defaults: ${risks.join('; ')}. Anyone who reaches the port can get signing certificates.`,
      );
  }
  // The data folder's stores, read-only: one of another application (or unreadable) is
  // refused with the folder as it was, not after the first services made keys or started.
  await checkLogStores(opts.dataDir, opts.databaseUrl);
  // Before anything is written: an unusable data folder or one held by a running stack fails
  // here, at once and with a message, before a port is bound or a key is made.
  const lock = acquireDataLock(opts.dataDir, {
    mode: opts.databaseUrl ? 'postgres' : 'sqlite',
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    what: 'signet up',
  });
  let server: http.Server;
  let boundUrl: string;
  try {
    // Until every route is registered and the app is ready, every request gets a 503 that
    // says so (a probe or a load balancer may knock as soon as the port is open).
    ({ server, url: boundUrl } = await bindServer(opts.port, host, startingHandler));
  } catch (e) {
    // Nothing but the lock was written yet: a new data folder is left as it was found.
    lock.releaseAndUnmake();
    throw listenFailed(e, host, opts.port, settings);
  }
  // What the data folder holds before any service writes to it: a start that fails from here
  // on removes what it added (SQLite; see the catch below), as one that failed to bind did.
  const found = opts.databaseUrl === undefined ? folderEntries(opts.dataDir) : undefined;
  const baseUrl = (opts.publicUrl ?? boundUrl).replace(/\/+$/, '');
  const services: Partial<StackServices> = {};
  const metrics = new StackMetrics();
  // Services made below serve pages at some paths (the explorer at / and /entry/): a browser
  // whose URL fails before routing there gets their page, not JSON.
  const pages: ErrorPage[] = [];
  const errorPage: ErrorPage = (reply, path, err, status) => {
    for (const p of pages) {
      const sent = p(reply, path, err, status);
      if (sent) return sent;
    }
    return undefined;
  };
  const app = createApp({ log, errorPage }, () => server);
  const routes: RunningStack['routes'] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  instrument(app, metrics, opts.accessLog === false ? undefined : log);
  // createApp attached fastify's handler: hold it back (same tick, so no request slips in).
  const appHandler = server.listeners('request').find((l) => l !== startingHandler) as
    http.RequestListener | undefined;
  if (appHandler) server.removeListener('request', appHandler);
  try {
    const ctx: StackContext = {
      dataDir: opts.dataDir,
      baseUrl,
      databaseUrl: opts.databaseUrl,
      log,
      services,
      metrics,
      checkBundle: opts.checkBundle,
    };
    for (const create of creators) {
      const mod = await create(ctx);
      if (mod.errorPage) pages.push(mod.errorPage);
      await app.register(async (scope) => mod.register(scope), { prefix: mod.prefix });
    }
    // Liveness: the process answers. Readiness: and every store answers (orchestrators
    // route traffic only to ready replicas).
    app.get('/healthz', async () => ({ status: 'ok', services: Object.keys(services) }));
    const probe = readinessProbe(() => Object.values(services), log);
    app.get('/readyz', async (_req, reply) => {
      const problems = await probe();
      if (problems.length > 0)
        return sendError(
          reply,
          new SignetError('unavailable', 'NOT_READY', `not ready: ${problems.join('; ')}`),
        );
      return { status: 'ready', services: Object.keys(services) };
    });
    await app.ready();
  } catch (e) {
    await closeAll(services, log);
    server.close();
    // The keys, certificates, log records and databases of the services made before the one
    // that failed are removed: the data folder is left as it was found, never losing what it
    // held. Not with PostgreSQL: the logs made in the database are signed by the keys just
    // made, so those keys are kept with them (and the folder may be shared by replicas).
    if (found !== undefined) {
      const left = removeAdded(opts.dataDir, found, ['run']);
      if (left.length > 0)
        log.warn('a failed start could not remove what it made in the data folder', {
          dataDir: opts.dataDir,
          left,
        });
    }
    lock.releaseAndUnmake();
    throw e;
  }
  if (appHandler) {
    server.removeListener('request', startingHandler);
    server.on('request', appHandler);
  }
  // Behind a public URL, where the stack really is (its port with --port 0) is said too.
  const listening = baseUrl === boundUrl ? undefined : boundUrl.slice('http://'.length);
  log.info('stack started', {
    url: baseUrl,
    ...(listening === undefined ? {} : { listening }),
    dataDir: opts.dataDir,
    services: Object.keys(services),
  });
  return {
    url: baseUrl,
    ...(listening === undefined ? {} : { listening }),
    services,
    routes,
    async close() {
      await app.close();
      // fastify does not own a server handed in through serverFactory: close it here.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await closeAll(services, log);
      lock.release();
    },
  };
}

/**
 * Whether `host` is an address of this machine, asked as listen() will ask it: a listen on it
 * (on a free port, closed at once) that fails with EADDRNOTAVAIL is refused as the real one
 * would be, naming the setting. Any other failure is left to the real listen.
 */
async function checkLocalAddress(host: string, settings: ListenSettings): Promise<void> {
  const net = process.getBuiltinModule('node:net');
  const probe = net.createServer();
  const failed = await new Promise<unknown>((resolve) => {
    probe.once('error', resolve);
    probe.listen(0, host, () => resolve(undefined));
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if ((failed as NodeJS.ErrnoException | undefined)?.code === 'EADDRNOTAVAIL')
    throw listenFailed(failed, host, 0, settings);
}

async function closeAll(services: Partial<StackServices>, log: Logger): Promise<void> {
  for (const s of Object.values(services).reverse()) {
    try {
      await s.close();
    } catch (e) {
      log.error('service failed to close', { service: s.name, error: (e as Error).message });
    }
  }
}

/**
 * An error about a value in the config file's section `section`, led by the file: the one
 * place that names it for every service's parse. An error about another file the section
 * names (the issuers file's own fields) already leads with that file, and is left as it is.
 */
function inConfigFile(e: unknown, file: string, section: string): unknown {
  if (!(e instanceof SignetError) || e.field === undefined) return e;
  if (e.field !== section && !e.field.startsWith(`${section}.`)) return e;
  return new SignetError(e.kind, e.code, reasonOf(e), {
    field: `${file}: ${e.field}`,
    cause: e.cause,
    ...(e.details ? { details: e.details } : {}),
  });
}

/**
 * The URL the stack publishes and names its new logs by: http(s) with a host and nothing a
 * client should not see or that would not survive a path appended (credentials, a query, a
 * fragment). Errors name the setting.
 */
function checkPublicUrl(text: string, field: string): void {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw invalid(field, `"${text}" is not a URL (give it with its scheme: https://host)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw invalid(field, `"${text}" is not an http(s) URL`);
  if (u.username || u.password)
    throw invalid(field, 'must not carry a user name or password: it is published');
  if (u.search || u.hash || text.includes('?') || text.includes('#'))
    throw invalid(field, `"${text}" must not have a query or a fragment`);
}
