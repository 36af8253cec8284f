import type { FastifyInstance, FastifyReply } from 'fastify';
import { invalid, SignetError } from '../../core/errors.ts';
import { collectTrust } from '../trust/assemble.ts';
import type { ServiceDefinition, ServiceModule, StackContext } from '../types.ts';
import { ROLES, type RoleName, TufRepository } from './repository.ts';

/** Target names as in Sigstore's public TUF repository (sigstore/root-signing). */
export const TRUSTED_ROOT_TARGET = 'trusted_root.json';
export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';

const HOUR = 3600 * 1000;

export interface TufService extends ServiceModule {
  repository: TufRepository;
  trustedRoot: Buffer;
  signingConfigJson: Buffer;
  /** Re-signs the online roles if they expire soon (also runs hourly). */
  refresh(now?: Date): RoleName[];
}

/**
 * Trust distribution, created last in the stack: assembles trusted_root.json and
 * signing_config.json from every service created before it, serves them plainly at the stack
 * root and as TUF targets under /tuf (prefix '' so both live in one module).
 */
export const tufService: ServiceDefinition<'tuf'> = { parse: parseTufConfig, create: createTuf };

/** The `tuf` section, parsed: how long each role's metadata stays valid (ms; default per role). */
export interface TufOptions {
  lifetimes: Partial<Record<RoleName, number>>;
}

export async function createTuf(ctx: StackContext, options: TufOptions): Promise<TufService> {
  const { trustedRoot, signingConfig } = await collectTrust(Object.values(ctx.services));
  const trustedRootBytes = Buffer.from(`${JSON.stringify(trustedRoot, null, 2)}\n`);
  const signingConfigBytes = Buffer.from(`${JSON.stringify(signingConfig, null, 2)}\n`);
  const targets = {
    [TRUSTED_ROOT_TARGET]: trustedRootBytes,
    [SIGNING_CONFIG_TARGET]: signingConfigBytes,
  };
  const repo = TufRepository.open(ctx.dataDir, options.lifetimes);
  const changed = repo.update(targets);
  if (changed.length > 0)
    ctx.log.info('tuf repository updated', {
      roles: changed,
      rootVersion: repo.root.signed.version,
    });
  const refresh = (now = new Date()): RoleName[] => {
    const c = repo.update(targets, now);
    if (c.length > 0) ctx.log.info('tuf metadata re-signed', { roles: c });
    return c;
  };
  const timer = setInterval(() => {
    try {
      refresh();
    } catch (e) {
      ctx.log.error('tuf refresh failed', { error: (e as Error).message });
    }
  }, HOUR);
  timer.unref();
  return {
    name: 'tuf',
    prefix: '',
    repository: repo,
    trustedRoot: trustedRootBytes,
    signingConfigJson: signingConfigBytes,
    refresh,
    register: async (app) =>
      registerTufRoutes(app, repo, trustedRootBytes, signingConfigBytes, refresh),
    close: async () => clearInterval(timer),
  };
}

export function parseTufConfig(config: Record<string, unknown>): TufOptions {
  const out: Partial<Record<RoleName, number>> = {};
  const l = config['lifetimes'];
  if (l === undefined) return { lifetimes: out };
  if (typeof l !== 'object' || l === null)
    throw invalid('tuf.lifetimes', 'must be an object of role -> days');
  for (const [role, days] of Object.entries(l as Record<string, unknown>)) {
    if (!(ROLES as readonly string[]).includes(role))
      throw invalid(`tuf.lifetimes.${role}`, 'unknown role');
    if (typeof days !== 'number' || !(days > 0))
      throw invalid(`tuf.lifetimes.${role}`, 'must be a positive number of days');
    out[role as RoleName] = days * 24 * HOUR;
  }
  return { lifetimes: out };
}

async function registerTufRoutes(
  app: FastifyInstance,
  repo: TufRepository,
  trustedRoot: Buffer,
  signingConfig: Buffer,
  refresh: () => unknown,
): Promise<void> {
  app.get('/trusted_root.json', async (_req, reply) =>
    reply.type('application/json').header('cache-control', 'no-cache').send(trustedRoot),
  );
  for (const p of ['/signing_config.json', '/signing_config.v0.2.json'])
    app.get(p, async (_req, reply) =>
      reply.type('application/json').header('cache-control', 'no-cache').send(signingConfig),
    );

  const serve = (rel: string, reply: FastifyReply) => {
    if (rel === 'timestamp.json') refresh(); // never hand out an expired timestamp
    const body = repo.read(rel);
    if (!body) throw new SignetError('not-found', 'NOT_FOUND', `no TUF file ${rel}`);
    // Versioned and hash-named files never change; the unversioned names do.
    const immutable = /^(\d+\.|targets\/)/.test(rel);
    return reply
      .type(rel.endsWith('.json') ? 'application/json' : 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(body);
  };
  app.get<{ Params: { file: string } }>('/tuf/:file', async (req, reply) =>
    serve(req.params.file, reply),
  );
  // A wildcard, not a :param: fastify answers 414 for a param over 100 characters, and a
  // target named by its SHA-512 (`<128 hex>.trusted_root.json`) is longer.
  app.get<{ Params: { '*': string } }>('/tuf/targets/*', async (req, reply) =>
    serve(`targets/${req.params['*']}`, reply),
  );
}
