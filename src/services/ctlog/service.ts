import { toBase64 } from '../../core/encoding/base64.ts';
import { invalid } from '../../core/errors.ts';
import { parseCertificatesPem, type X509Certificate } from '../../core/x509/certificate.ts';
import { openRecordedLog } from '../log-records.ts';
import { LOG_FILES } from '../log-stores.ts';
import { KeyRing } from '../keyring.ts';
import type { ServiceDefinition, ServiceModule, StackContext } from '../types.ts';
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { CtLog, ctLogKey } from './ctlog.ts';
import { registerCtRoutes } from './routes.ts';
import { readTextFile } from '../read-file.ts';

/**
 * The RFC 6962 CT log as a stack service at `/ctlog`: a second instance of the log engine
 * (its own name and SQLite file, or its own log in PostgreSQL) with its own ECDSA P-256 key
 * ring `ctlog`. The stack's CA registers its roots; config `ctlog.roots` (PEM file paths) adds
 * other accepted roots. Config `ctlog.batchMaxAgeMs` tunes the sequencer.
 */
export interface CtlogServiceModule extends ServiceModule {
  log: CtLog;
}

/** The `ctlog` section, parsed: the roots read from their files. */
export interface CtlogOptions {
  batchMaxAgeMs?: number;
  /** Roots accepted besides the stack's CA's. */
  roots: X509Certificate[];
}

/** The `ctlog` section; relative file names in it are read from `dir`. */
export function parseCtlogConfig(section: Record<string, unknown>, dir: string): CtlogOptions {
  const batch = section['batchMaxAgeMs'];
  if (batch !== undefined && (typeof batch !== 'number' || !(batch >= 0)))
    throw invalid('ctlog.batchMaxAgeMs', 'must be a non-negative number');
  const out: CtlogOptions = { roots: [], ...(batch === undefined ? {} : { batchMaxAgeMs: batch }) };
  const roots = section['roots'];
  if (roots !== undefined) {
    if (!Array.isArray(roots)) throw invalid('ctlog.roots', 'must be a list of PEM file paths');
    roots.forEach((file, i) => {
      if (typeof file !== 'string') throw invalid(`ctlog.roots[${i}]`, 'must be a file path');
      const text = readTextFile(path.resolve(dir, file), 'root certificates', {
        field: `ctlog.roots[${i}]`,
      });
      out.roots.push(...parseCertificatesPem(text, `ctlog.roots[${i}]`));
    });
  }
  return out;
}

export const ctlogService: ServiceDefinition<'ctlog'> = {
  parse: parseCtlogConfig,
  create: createCtlogService,
};

export async function createCtlogService(
  ctx: StackContext,
  options: CtlogOptions,
): Promise<CtlogServiceModule> {
  const ring = KeyRing.open(ctx.dataDir, 'ctlog', { type: 'ec', curve: 'P-256' });
  const current = ring.current();
  const signer = ctLogKey(current.key);
  const origin = `${new URL(ctx.baseUrl).host}/ctlog`;
  const engine = await openRecordedLog({
    name: 'ctlog',
    dataDir: ctx.dataDir,
    ...(ctx.databaseUrl ? { databaseUrl: ctx.databaseUrl } : {}),
    sqliteFile: LOG_FILES.ctlog,
    // The CT log's key rotates in place: a head signed by an earlier version is its own.
    signer: {
      key: current.key,
      origin,
      previousKeys: ring.versions.filter((v) => v !== current).map((v) => v.key),
    },
    ...(options.batchMaxAgeMs === undefined ? {} : { batchMaxAgeMs: options.batchMaxAgeMs }),
  });
  const log = new CtLog(engine, signer);
  ctx.metrics?.addLog('ctlog', engine);
  for (const c of options.roots) log.addRoot(c);
  const url = `${ctx.baseUrl}/ctlog`;
  const mod: CtlogServiceModule = {
    name: 'ctlog',
    prefix: '/ctlog',
    log,
    async register(app) {
      await registerCtRoutes(app, log);
    },
    trust() {
      // protobuf-specs TransparencyLogInstance, one per key version (the log ID is per key).
      return {
        ctlogs: ring.versions.map((v) => {
          const spki = new Uint8Array(
            createPublicKey(v.key).export({ format: 'der', type: 'spki' }),
          );
          // Whole seconds, rounded down, like the CA's (verifiers compare second-precision times).
          const start = new Date(Math.floor(v.validFrom.getTime() / 1000) * 1000);
          const validFor: Record<string, string> = { start: start.toISOString() };
          if (v.validTo) validFor['end'] = v.validTo.toISOString();
          return {
            baseUrl: url,
            hashAlgorithm: 'SHA2_256',
            publicKey: {
              rawBytes: toBase64(spki),
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
              validFor,
            },
            logId: { keyId: toBase64(ctLogKey(v.key).logId) },
          };
        }),
      };
    },
    async ready() {
      await engine.checkpoint();
    },
    async close() {
      await engine.close();
    },
  };
  return mod;
}
