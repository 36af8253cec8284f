import os from 'node:os';
import { invalid } from '../../core/errors.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import { openRecordedLog } from '../log-records.ts';
import { LOG_FILES } from '../log-stores.ts';
import type { LogEngine } from '../../log/types.ts';
import type { TileLog } from '../../log/index.ts';
import { KeyRing } from '../keyring.ts';
import { tileRoutes } from '../tiles/index.ts';
import type { ServiceDefinition, ServiceModule, StackContext } from '../types.ts';
import { registerV1Routes } from './routes-v1.ts';
import { registerV2Routes } from './routes-v2.ts';
import { Shard, Shards } from './shards.ts';
import { VerifyQueue } from './verify-queue.ts';
import { parseWitnessConfig, type WitnessEndpoint } from './witnessing.ts';
import { migrateSearchIndex } from './search-index.ts';

/**
 * Signet's Rekor (DESIGN.md services: `rekor`): one tile-based log serving the Rekor v2 write
 * API, C2SP tile reads, and the Rekor v1 REST API with search, under `/rekor`.
 *
 * Keys: KeyRing `rekor`, ECDSA P-256. Each key version is one shard (one tree, log name
 * `rekor-<version>`); rotation starts a new shard and freezes the previous one, which stays
 * readable and keeps its trusted-root entry. Because the key is ECDSA, Rekor v1's logID, the v1
 * checkpoint key hint and the C2SP checkpoint key ID coincide (SHA-256 of the SPKI), so one
 * trusted-root tlog entry per key version serves both APIs.
 *
 * Log identity: a shard's C2SP origin is fixed when the shard is created (the scheme-less URL
 * of the shard then) and stored with its tree (log engine); its Rekor v1 checkpoint name is the
 * origin's host. The trusted root names each shard by that origin (`baseUrl`, which sigstore-js
 * and Signet match checkpoint signer names against), while the signing config points at the URL
 * the stack is reached at now: restarting on another port or behind another public URL keeps
 * every earlier bundle verifiable.
 *
 * Config (`rekor` section): `hostname` (the host in the origin of shards created from now on,
 * default the public URL's host), `maxRequestBytes` (default 4 MiB; larger bodies answer 413 naming the limit),
 * `batchMaxAgeMs` and `batchMaxSize` (sequencer), `verifyWorkers` (worker threads for signature checks; default 1 on a multi-core machine),
 * `witnesses` (a list of `{url, key}`: C2SP witnesses that cosign each checkpoint; key = the
 * witness vkey) and `witnessTimeoutMs` (how long one round may wait, default 2000).
 */
export interface RekorServiceModule extends ServiceModule {
  shards: Shards;
}

const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/** The `rekor` section, parsed (undefined: the default, which may depend on the stack). */
export interface RekorOptions {
  hostname: string | undefined;
  maxRequestBytes: number;
  batchMaxAgeMs: number | undefined;
  batchMaxSize: number | undefined;
  verifyWorkers: number | undefined;
  witnesses: WitnessEndpoint[];
  witnessTimeoutMs: number | undefined;
}

function numberOption(
  section: Record<string, unknown>,
  name: string,
  min: number,
): number | undefined {
  const v = section[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw invalid(`rekor.${name}`, `must be a number >= ${min}`);
  return v;
}

export function parseRekorConfig(section: Record<string, unknown>): RekorOptions {
  const hostname = section['hostname'];
  if (hostname !== undefined && (typeof hostname !== 'string' || /[\s+]/.test(hostname)))
    throw invalid('rekor.hostname', 'must be a host name without spaces or "+"');
  const batchMaxSize = numberOption(section, 'batchMaxSize', 1);
  const verifyWorkers = numberOption(section, 'verifyWorkers', 0);
  return {
    hostname: hostname as string | undefined,
    maxRequestBytes: numberOption(section, 'maxRequestBytes', 1024) ?? DEFAULT_BODY_LIMIT,
    batchMaxAgeMs: numberOption(section, 'batchMaxAgeMs', 0),
    batchMaxSize: batchMaxSize === undefined ? undefined : Math.floor(batchMaxSize),
    verifyWorkers: verifyWorkers === undefined ? undefined : Math.floor(verifyWorkers),
    witnesses: parseWitnessConfig(section['witnesses']),
    witnessTimeoutMs: numberOption(section, 'witnessTimeoutMs', 1),
  };
}

export const rekorService: ServiceDefinition<'rekor'> = {
  parse: parseRekorConfig,
  create: createRekorService,
};

export async function createRekorService(
  ctx: StackContext,
  options: RekorOptions,
): Promise<RekorServiceModule> {
  const ring = KeyRing.open(ctx.dataDir, 'rekor', { type: 'ec', curve: 'P-256' });
  const base = new URL(ctx.baseUrl);
  // Scheme-less public URL (with any path prefix the proxy adds) for origins of new shards.
  const originBase = `${options.hostname ?? base.host}${base.pathname.replace(/\/+$/, '')}`;
  const { batchMaxAgeMs, batchMaxSize } = options;
  const bodyLimit = options.maxRequestBytes;
  // One verification thread beside the HTTP thread when there is a second core: signature
  // checks are a quarter of the admission CPU (bench/rekor.bench.ts compares both settings).
  const workers = options.verifyWorkers ?? (os.availableParallelism() > 1 ? 1 : 0);
  const serviceUrl = `${ctx.baseUrl}/rekor`;
  const scheme = `${base.protocol}//`;

  const engines: LogEngine[] = [];
  const list: Shard[] = [];
  try {
    for (const v of ring.versions) {
      // C2SP origin of a new shard: its scheme-less base URL (a complete Rekor v2 instance);
      // an existing shard keeps the origin it was created with (the engine reads it back).
      const origin = `${originBase}/rekor/shards/${v.id}`;
      const engine = await openRecordedLog({
        name: `rekor-${v.id}`,
        dataDir: ctx.dataDir,
        ...(ctx.databaseUrl ? { databaseUrl: ctx.databaseUrl } : {}),
        sqliteFile: LOG_FILES.rekor,
        signer: { key: v.key, origin },
        ...(batchMaxAgeMs !== undefined ? { batchMaxAgeMs } : {}),
        ...(batchMaxSize !== undefined ? { batchMaxSize } : {}),
      });
      engines.push(engine);
      list.push(new Shard(v.id, engine, v, engine.origin.split('/')[0]!));
    }
  } catch (e) {
    await Promise.all(engines.map((en) => en.close()));
    throw e;
  }
  const shards = new Shards(list);
  await shards.computeOffsets();
  try {
    for (const s of list) {
      const changed = await migrateSearchIndex(s.engine);
      if (changed.identityKeys > 0)
        ctx.log.info('search index: identity keys brought to the exact form', {
          shard: s.id,
          entries: changed.identityKeys,
        });
      if (changed.statementKeys > 0)
        ctx.log.warn(
          "search index: removed keys that attestations' statements had named (identities, keys or issuers their signers do not have)",
          { shard: s.id, rows: changed.statementKeys },
        );
      if (changed.commitKeys > 0)
        ctx.log.info(
          'search index: git commit keys added from the attestations the log keeps, so a search by a commit ID finds them',
          { shard: s.id, entries: changed.commitKeys },
        );
    }
  } catch (e) {
    await Promise.all(engines.map((en) => en.close()));
    throw e;
  }
  for (const s of list) ctx.metrics?.addLog(`rekor-${s.id}`, s.engine as TileLog);
  const witnesses = options.witnesses;
  if (witnesses.length > 0) {
    const timeoutMs = options.witnessTimeoutMs;
    // Every shard, frozen ones too (their last checkpoint gets cosigned once), in both views.
    for (const s of shards.list)
      s.witnessWith(witnesses, {
        log: ctx.log,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      });
    try {
      await Promise.all(
        shards.list.flatMap((s) => [
          s.witnessing!.checkNotBehind(),
          s.v1Witnessing!.checkNotBehind(),
        ]),
      );
    } catch (e) {
      await Promise.all(engines.map((en) => en.close()));
      throw e;
    }
  }
  const queue = new VerifyQueue({ workers });
  const shardUrl = (s: Shard) => `${serviceUrl}/shards/${s.id}`;

  const mod: RekorServiceModule = {
    name: 'rekor',
    prefix: '/rekor',
    shards,
    async register(app) {
      await registerV1Routes(app, { shards, queue, bodyLimit });
      await registerV2Routes(app, { shards, queue, bodyLimit });
      for (const shard of shards.list)
        await app.register(
          async (scope) => {
            await registerV1Routes(scope, { shards, queue, bodyLimit, lookupsOnly: true });
            await registerV2Routes(scope, { shards, queue, bodyLimit, shard });
          },
          { prefix: `/shards/${shard.id}` },
        );
      await registerTiles(app, shards);
    },
    trust() {
      // protobuf-specs TransparencyLogInstance, one per key version (= shard).
      return {
        tlogs: shards.list.map((s) => {
          // integratedTime is in whole seconds: start the window on the second the key was made,
          // or an entry sequenced in that same second would fall before it.
          const validFor: Record<string, string> = { start: floorSecond(s.version.validFrom) };
          if (s.version.validTo) validFor['end'] = s.version.validTo.toISOString();
          const keyId = { keyId: toBase64(s.logId) };
          // baseUrl = the shard's origin as a URL (its name, fixed at creation, not where it
          // is reached now): sigstore-js matches checkpoint signer names (the v1 hostname and
          // the v2 origin) as substrings of it.
          return {
            baseUrl: `${scheme}${s.engine.origin}`,
            hashAlgorithm: 'SHA2_256',
            publicKey: {
              rawBytes: toBase64(s.spki),
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
              validFor,
            },
            logId: keyId,
            checkpointKeyId: keyId,
          };
        }),
      };
    },
    signingConfig() {
      // v1 spans every shard (one URL, global indices); v2 names the current shard's URL.
      return {
        rekorTlogUrls: [
          {
            url: shardUrl(shards.current),
            majorApiVersion: 2,
            validFor: { start: floorSecond(shards.current.version.validFrom) },
            operator: 'signet',
          },
          {
            url: serviceUrl,
            majorApiVersion: 1,
            validFor: { start: floorSecond(shards.list[0]!.version.validFrom) },
            operator: 'signet',
          },
        ],
      };
    },
    async ready() {
      await Promise.all(shards.list.map((s) => s.head()));
    },
    async close() {
      await queue.close();
      await Promise.all(engines.map((e) => e.close()));
    },
  };
  return mod;
}

function floorSecond(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
}

/**
 * C2SP tlog-tiles reads (the LOG helper's plugin, src/services/tiles) of the current shard at
 * the service root and under /api/v2/, and of every shard under /shards/<id>/ (its base URL).
 */
async function registerTiles(
  app: Parameters<ServiceModule['register']>[0],
  shards: Shards,
): Promise<void> {
  const opts = (s: Shard) => (s.witnessing ? { checkpoint: () => s.witnessing!.checkpoint() } : {});
  const current = shards.current;
  await app.register(tileRoutes(current.engine, opts(current)));
  await app.register(tileRoutes(current.engine, opts(current)), { prefix: '/api/v2' });
  for (const s of shards.list)
    await app.register(tileRoutes(s.engine, opts(s)), { prefix: `/shards/${s.id}` });
}
