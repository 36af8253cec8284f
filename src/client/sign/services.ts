import { SignetError } from '../../core/errors.ts';
import {
  selectServices,
  type Service,
  type ServiceConfiguration,
  type SigningConfig,
} from '../../bundle/signing-config.ts';

/** The services one signing operation uses, chosen from a signing config. */
export interface SigningServices {
  /** The CA (keyless signing only). */
  caUrl: string | undefined;
  /** Transparency logs to write to (empty: no log entry). */
  tlogs: Array<{ url: string; majorApiVersion: 1 | 2 }>;
  /** TSAs to ask for an RFC 3161 timestamp (empty: none). */
  tsaUrls: string[];
}

/**
 * Select services as the client spec says: valid now, an API version we speak (CA v1, Rekor
 * v1/v2, TSA v1), the highest version first, then the newest; then as many as the selector
 * asks (ANY: one, EXACT: count, ALL: every one). `rekorVersion` forces one log API version.
 */
export function servicesFromSigningConfig(
  cfg: SigningConfig,
  opts: { now?: Date; rekorVersion?: 1 | 2; keyless: boolean },
): SigningServices {
  const now = opts.now ?? new Date();
  const ca = rank(selectServices(cfg.caUrls, now, [1]));
  if (opts.keyless && ca.length === 0)
    throw new SignetError(
      'invalid-input',
      'NO_CA',
      'the signing config lists no certificate authority valid now (caUrls): keyless signing needs one',
      { field: 'signing config.caUrls' },
    );
  const tlogCandidates = rank(
    selectServices(cfg.rekorTlogUrls, now, opts.rekorVersion ? [opts.rekorVersion] : [1, 2]),
  );
  if (cfg.rekorTlogUrls.length > 0 && tlogCandidates.length === 0)
    throw new SignetError(
      'invalid-input',
      'NO_TLOG',
      `the signing config lists no transparency log valid now${opts.rekorVersion ? ` with API version ${opts.rekorVersion}` : ''} (rekorTlogUrls)`,
      { field: 'signing config.rekorTlogUrls' },
    );
  const tlogs = pick(tlogCandidates, cfg.rekorTlogConfig, 'rekorTlogConfig');
  const tsas = pick(rank(selectServices(cfg.tsaUrls, now, [1])), cfg.tsaConfig, 'tsaConfig');
  return {
    caUrl: ca[0]?.url,
    tlogs: tlogs.map((s) => ({ url: s.url, majorApiVersion: s.majorApiVersion as 1 | 2 })),
    tsaUrls: tsas.map((s) => s.url),
  };
}

function rank(services: Service[]): Service[] {
  return [...services].sort(
    (a, b) =>
      b.majorApiVersion - a.majorApiVersion ||
      b.validFor.start.getTime() - a.validFor.start.getTime(),
  );
}

function pick(services: Service[], cfg: ServiceConfiguration, field: string): Service[] {
  switch (cfg.selector) {
    case 'ALL':
      return services;
    case 'EXACT':
      if (services.length < cfg.count)
        throw new SignetError(
          'invalid-input',
          'NOT_ENOUGH_SERVICES',
          `the signing config asks for exactly ${cfg.count} services but only ${services.length} are usable now`,
          { field: `signing config.${field}` },
        );
      return services.slice(0, cfg.count);
    default:
      return services.slice(0, 1);
  }
}

/**
 * A keyless bundle needs a verified time for its short-lived certificate: a Rekor v1 entry
 * (its SET) or an RFC 3161 timestamp. Rekor v2 gives no time, so refuse before signing, and
 * before asking the CA for a certificate.
 */
export function requireTimeSource(services: SigningServices): void {
  const v1 = services.tlogs.some((t) => t.majorApiVersion === 1);
  if (!v1 && services.tsaUrls.length === 0)
    throw new SignetError(
      'invalid-input',
      'NO_TIME_SOURCE',
      'keyless signing needs a timestamp authority or a Rekor v1 log (Rekor v2 entries carry no time): the signing config has neither',
    );
}

/**
 * The services to sign with again after `e`, or undefined to fail with `e`. A signing config
 * kept from a recent run (setup.ts) can name services a moved stack no longer answers at, or a
 * rebuilt one no longer has (404) or has rotated out (405, a frozen log): those failures ask
 * `refresh` for the server's current services, once, and a retry is worth it only when they
 * differ. `refresh` is absent when the config was not from the cache (nothing newer to ask).
 */
export async function currentServices(
  e: unknown,
  used: SigningServices,
  refresh: (() => Promise<SigningServices>) | undefined,
  onEvent?: (message: string) => void,
): Promise<SigningServices | undefined> {
  if (!refresh || !(e instanceof SignetError)) return undefined;
  const status = e.details?.['status'];
  if (e.code !== 'SERVICE_UNREACHABLE' && status !== 404 && status !== 405) return undefined;
  const fresh = await refresh();
  // Nothing newer (a stopped stack): the caller fails with `e`, said once.
  if (JSON.stringify(fresh) === JSON.stringify(used)) return undefined;
  onEvent?.(
    status === 405
      ? 'the transparency log is frozen (rotated): signing with the current signing config'
      : `${e.message} (with the signing config kept from a recent run): signing with the server's current one`,
  );
  return fresh;
}
