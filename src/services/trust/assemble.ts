import {
  parseSigningConfig,
  parseTrustedRoot,
  SIGNING_CONFIG_MEDIA_TYPE_V02,
  type SigningConfig,
  signingConfigToJSON,
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  type TrustedRoot,
  trustedRootToJSON,
} from '../../bundle/index.ts';
import type { JsonObject } from '../../bundle/json.ts';
import { SignetError } from '../../core/errors.ts';
import type { ServiceModule, SigningConfigContribution, TrustContribution } from '../types.ts';

/**
 * Builds the stack's `trusted_root.json` (protobuf-specs TrustedRoot v0.1) from every
 * service's contribution. Each contribution is parsed on its own first, so a service that
 * emits something malformed is named in the error rather than producing a broken root.
 */
export function assembleTrustedRoot(
  parts: Array<{ service: string; trust: TrustContribution }>,
): JsonObject {
  const all: TrustedRoot = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE_V01,
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
  for (const { service, trust } of parts) {
    const one = contribution(service, 'trust()', () =>
      parseTrustedRoot({
        mediaType: TRUSTED_ROOT_MEDIA_TYPE_V01,
        tlogs: trust.tlogs ?? [],
        certificateAuthorities: trust.certificateAuthorities ?? [],
        ctlogs: trust.ctlogs ?? [],
        timestampAuthorities: trust.timestampAuthorities ?? [],
      }),
    );
    all.tlogs.push(...one.tlogs);
    all.certificateAuthorities.push(...one.certificateAuthorities);
    all.ctlogs.push(...one.ctlogs);
    all.timestampAuthorities.push(...one.timestampAuthorities);
  }
  return trustedRootToJSON(all);
}

/**
 * Builds `signing_config.json` (SigningConfig v0.2). The selectors are ANY, which is what
 * sigstore-js's bundleBuilderFromSigningConfig requires (clients.md §2.1).
 */
export function assembleSigningConfig(
  parts: Array<{ service: string; config: SigningConfigContribution }>,
): JsonObject {
  const all: SigningConfig = {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
    caUrls: [],
    oidcUrls: [],
    rekorTlogUrls: [],
    rekorTlogConfig: { selector: 'ANY', count: 0 },
    tsaUrls: [],
    tsaConfig: { selector: 'ANY', count: 0 },
  };
  for (const { service, config } of parts) {
    const one = contribution(service, 'signingConfig()', () =>
      parseSigningConfig({
        mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
        caUrls: config.caUrls ?? [],
        oidcUrls: config.oidcUrls ?? [],
        rekorTlogUrls: config.rekorTlogUrls ?? [],
        tsaUrls: config.tsaUrls ?? [],
        rekorTlogConfig: { selector: 'ANY' },
        tsaConfig: { selector: 'ANY' },
      }),
    );
    all.caUrls.push(...one.caUrls);
    all.oidcUrls.push(...one.oidcUrls);
    all.rekorTlogUrls.push(...one.rekorTlogUrls);
    all.tsaUrls.push(...one.tsaUrls);
  }
  // Newest first within each list, as Sigstore's published configs order them.
  for (const list of [all.caUrls, all.oidcUrls, all.rekorTlogUrls, all.tsaUrls])
    list.sort(
      (a, b) =>
        b.majorApiVersion - a.majorApiVersion ||
        b.validFor.start.getTime() - a.validFor.start.getTime(),
    );
  return signingConfigToJSON(all);
}

/** Collects trust() and signingConfig() from the services created so far (stack order). */
export async function collectTrust(
  services: Iterable<ServiceModule>,
): Promise<{ trustedRoot: JsonObject; signingConfig: JsonObject }> {
  const trust: Array<{ service: string; trust: TrustContribution }> = [];
  const config: Array<{ service: string; config: SigningConfigContribution }> = [];
  for (const s of services) {
    if (s.trust) trust.push({ service: s.name, trust: await s.trust() });
    if (s.signingConfig) config.push({ service: s.name, config: await s.signingConfig() });
  }
  return { trustedRoot: assembleTrustedRoot(trust), signingConfig: assembleSigningConfig(config) };
}

function contribution<T>(service: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new SignetError(
      'internal',
      'TRUST_CONTRIBUTION',
      `service "${service}" ${what} is not valid: ${(e as Error).message}`,
      { cause: e },
    );
  }
}
