import path from 'node:path';
import { invalid, SignetError } from '../../core/errors.ts';
import type { KeyDetails } from '../../core/crypto/keys.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import type { X509Certificate } from '../../core/x509/certificate.ts';
import { defaultCaIssuerConfig } from '../oidc/ca-issuers.ts';
import type { ServiceDefinition, ServiceModule, StackContext } from '../types.ts';
import { loadFileCa } from './authority.ts';
import { type CaSource, openCaVersions } from './history.ts';
import { createIdentityVerifier, loadIssuerConfig, parseIssuerConfig } from './identity/index.ts';
import type { IssuerConfig } from './identity/config.ts';
import { CertificateAuthority } from './issuer.ts';
import { DEFAULT_ALGORITHMS } from './key-policy.ts';
import { registerCaRoutes } from './routes.ts';
import { CachedVerifier } from './token-cache.ts';

/**
 * The CA (Fulcio's API) as a stack service at `/fulcio`. Config section `ca`:
 * - `issuers`: issuer config file path, or the config inline (Fulcio's shape); default: the
 *   built-in identity provider's issuers under `<baseUrl>/oidc`. Relative file paths here are
 *   the config file's (parseCaConfig's `dir`).
 * - `keyType`: `P-384` (default, as public good) or `P-256`, for a CA created on first start.
 * - `certChain` + `key` (+ `keyPassphrase`, or env SIGNET_CA_KEY_PASSPHRASE): use this CA
 *   from PEM files instead. Every CA the stack issued under before (another chain, the
 *   built-in CA) stays in its trusted root, closed when it was replaced (history.ts).
 * - `organization` / `commonName`: names of a created CA (default `signet` / `signet`).
 * - `signingAlgorithms`: allowed requester key types (protobuf-specs names).
 * - `tokenCache`: remember verified tokens until they expire (default true).
 */
export interface CaServiceModule extends ServiceModule {
  ca: CertificateAuthority;
}

/**
 * The `ca` section, parsed. A CA from files is read and checked here; one from the key ring is
 * made (or reopened) in the data folder when the service is created.
 */
export interface CaOptions {
  /** The trusted issuers; undefined: the built-in provider's (they depend on the stack's URL). */
  issuers: IssuerConfig | undefined;
  authority: CaSource;
  allowedAlgorithms: readonly KeyDetails[];
  tokenCache: boolean;
}

function optString(cfg: Record<string, unknown>, key: string): string | undefined {
  const v = cfg[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(`ca.${key}`, 'must be a non-empty string');
  return v;
}

function issuerConfig(cfg: Record<string, unknown>, dir: string): IssuerConfig | undefined {
  const v = cfg['issuers'];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return loadIssuerConfig(path.resolve(dir, v), 'ca.issuers');
  return parseIssuerConfig(v, 'ca.issuers');
}

function authority(cfg: Record<string, unknown>, dir: string): CaOptions['authority'] {
  const file = (key: string) => {
    const v = optString(cfg, key);
    return v === undefined ? undefined : path.resolve(dir, v);
  };
  const certChain = file('certChain');
  const key = file('key');
  if ((certChain === undefined) !== (key === undefined))
    throw invalid('ca', 'give both certChain and key, or neither');
  if (certChain && key) {
    const passphrase = optString(cfg, 'keyPassphrase') ?? process.env['SIGNET_CA_KEY_PASSPHRASE'];
    return {
      from: 'files',
      version: loadFileCa(
        passphrase === undefined ? { certChain, key } : { certChain, key, passphrase },
      )[0]!,
    };
  }
  const keyType = optString(cfg, 'keyType') ?? 'P-384';
  if (keyType !== 'P-384' && keyType !== 'P-256')
    throw invalid('ca.keyType', `must be P-384 or P-256, not ${JSON.stringify(keyType)}`);
  return {
    from: 'ring',
    curve: keyType,
    names: {
      organization: optString(cfg, 'organization') ?? 'signet',
      commonName: optString(cfg, 'commonName') ?? 'signet',
    },
  };
}

function allowedAlgorithms(cfg: Record<string, unknown>): readonly KeyDetails[] {
  const v = cfg['signingAlgorithms'];
  if (v === undefined) return DEFAULT_ALGORITHMS;
  if (!Array.isArray(v) || v.length === 0)
    throw invalid('ca.signingAlgorithms', 'must be a non-empty list');
  return v.map((a, i) => {
    if (!DEFAULT_ALGORITHMS.includes(a as KeyDetails))
      throw invalid(
        `ca.signingAlgorithms[${i}]`,
        `must be one of ${DEFAULT_ALGORITHMS.join(', ')}`,
      );
    return a as KeyDetails;
  });
}

/** The `ca` section; relative file names in it are read from `dir`. */
export function parseCaConfig(section: Record<string, unknown>, dir: string): CaOptions {
  const tokenCache = section['tokenCache'];
  if (tokenCache !== undefined && typeof tokenCache !== 'boolean')
    throw invalid('ca.tokenCache', 'must be true or false');
  return {
    authority: authority(section, dir),
    issuers: issuerConfig(section, dir),
    allowedAlgorithms: allowedAlgorithms(section),
    tokenCache: tokenCache !== false,
  };
}

export const caService: ServiceDefinition<'ca'> = {
  parse: parseCaConfig,
  create: createCaService,
};

export async function createCaService(
  ctx: StackContext,
  options: CaOptions,
): Promise<CaServiceModule> {
  // Every CA this stack issued under, the one it issues with last: a change of CA (another
  // chain from files, files in place of the built-in CA) is recorded in the data folder here.
  const versions = openCaVersions(ctx.dataDir, options.authority);
  const verifier = createIdentityVerifier(options.issuers ?? defaultCaIssuerConfig(ctx.baseUrl));
  const ctlog = ctx.services.ctlog;
  if (ctlog) for (const v of versions) ctlog.log.addRoot(v.chain[v.chain.length - 1]!.der);
  const ca = new CertificateAuthority({
    versions,
    verifier: options.tokenCache ? new CachedVerifier(verifier) : verifier,
    ...(ctlog ? { ctlog: ctlog.log } : {}),
    allowedAlgorithms: options.allowedAlgorithms,
  });
  const url = `${ctx.baseUrl}/fulcio`;
  const mod: CaServiceModule = {
    name: 'ca',
    prefix: '/fulcio',
    ca,
    async register(app) {
      const metrics = ctx.metrics;
      if (metrics) {
        app.addHook('onResponse', (req, reply, done) => {
          if (reply.statusCode < 300 && /\/signingCert$/.test(req.routeOptions.url ?? ''))
            metrics.certificateIssued();
          done();
        });
        app.addHook('onError', (_req, _reply, err, done) => {
          if (
            err instanceof SignetError &&
            (err.kind === 'unauthorized' || err.kind === 'forbidden')
          )
            metrics.tokenRefused(err.code);
          done();
        });
      }
      await registerCaRoutes(app, ca, () => verifier.issuers());
    },
    trust() {
      // protobuf-specs CertificateAuthority, one per CA version.
      return {
        certificateAuthorities: versions.map((v) => {
          const root = v.chain[v.chain.length - 1]!;
          // Whole seconds, rounded down: verifiers compare it with second-precision times
          // (integratedTime), and a bundle signed in the CA's first second must verify.
          const validFor: Record<string, string> = { start: floorSecond(v.validFrom) };
          if (v.validTo) validFor['end'] = v.validTo.toISOString();
          return {
            subject: subjectOf(root),
            uri: url,
            certChain: { certificates: v.chain.map((c) => ({ rawBytes: toBase64(c.der) })) },
            validFor,
          };
        }),
      };
    },
    signingConfig() {
      return {
        caUrls: [
          {
            url,
            majorApiVersion: 1,
            validFor: { start: floorSecond(versions[0]!.validFrom) },
            operator: 'signet',
          },
        ],
      };
    },
    async close() {},
  };
  return mod;
}

/** The root's subject as protobuf-specs DistinguishedName {organization, commonName}. */
function subjectOf(root: X509Certificate): { organization: string; commonName: string } {
  const get = (oid: string) => root.subjectAttributes.find((a) => a.type === oid)?.value ?? '';
  return { organization: get('2.5.4.10'), commonName: get('2.5.4.3') };
}

function floorSecond(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
}
