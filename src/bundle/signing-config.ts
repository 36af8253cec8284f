/**
 * protobuf-specs `dev.sigstore.trustroot.v1.SigningConfig` v0.2: where a signer finds the CA,
 * identity provider, transparency logs and TSAs, each with a validity window and API version,
 * and how many logs/TSAs to use (ServiceConfiguration selector ALL / ANY / EXACT).
 */
import { invalid, quoteInput, SignetError } from '../core/errors.ts';
import {
  array,
  enumName,
  int64,
  message,
  optStr,
  required,
  str,
  formatTimestamp,
  type JsonObject,
  parseJsonText,
} from './json.ts';
import { inRange, parseTimeRange, type TimeRange } from './trusted-root.ts';

export const SIGNING_CONFIG_MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

export interface Service {
  url: string;
  majorApiVersion: number;
  validFor: TimeRange;
  operator: string;
}

export type Selector = 'ALL' | 'ANY' | 'EXACT';

export interface ServiceConfiguration {
  selector: Selector;
  /** Only meaningful for EXACT. */
  count: number;
}

export interface SigningConfig {
  mediaType: string;
  caUrls: Service[];
  oidcUrls: Service[];
  rekorTlogUrls: Service[];
  rekorTlogConfig: ServiceConfiguration;
  tsaUrls: Service[];
  tsaConfig: ServiceConfiguration;
}

export function parseSigningConfigJSON(text: string, field = 'signing config'): SigningConfig {
  return parseSigningConfig(parseJsonText(text, field));
}

export function parseSigningConfig(value: unknown): SigningConfig {
  const o = message(
    value,
    '',
    ['mediaType', 'caUrls', 'oidcUrls', 'rekorTlogUrls', 'rekorTlogConfig', 'tsaUrls', 'tsaConfig'],
    false,
  );
  const mediaType = str(required(o.mediaType, 'mediaType'), 'mediaType');
  if (mediaType !== SIGNING_CONFIG_MEDIA_TYPE_V02)
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_SIGNING_CONFIG',
      `${quoteInput(mediaType)} is not a supported signing config media type (v0.2 is)`,
      { field: 'mediaType' },
    );
  const services = (k: string) => array(o[k], k).map((x, i) => parseService(x, `${k}[${i}]`));
  return {
    mediaType,
    caUrls: services('caUrls'),
    oidcUrls: services('oidcUrls'),
    rekorTlogUrls: services('rekorTlogUrls'),
    rekorTlogConfig: parseServiceConfig(o.rekorTlogConfig, 'rekorTlogConfig'),
    tsaUrls: services('tsaUrls'),
    tsaConfig: parseServiceConfig(o.tsaConfig, 'tsaConfig'),
  };
}

function parseService(value: unknown, P: string): Service {
  const o = message(value, P, ['url', 'majorApiVersion', 'validFor', 'operator'], false);
  const url = str(required(o.url, `${P}.url`), `${P}.url`);
  try {
    new URL(url);
  } catch {
    throw invalid(`${P}.url`, `${quoteInput(url)} is not a URL`);
  }
  return {
    url,
    majorApiVersion: int64(
      required(o.majorApiVersion, `${P}.majorApiVersion`),
      `${P}.majorApiVersion`,
      1,
    ),
    validFor: parseTimeRange(required(o.validFor, `${P}.validFor`), `${P}.validFor`),
    operator: optStr(o.operator, `${P}.operator`) ?? '',
  };
}

function parseServiceConfig(value: unknown, P: string): ServiceConfiguration {
  if (value === undefined) return { selector: 'ANY', count: 0 };
  const o = message(value, P, ['selector', 'count'], false);
  const selector = enumName(
    required(o.selector, `${P}.selector`),
    `${P}.selector`,
    ['ALL', 'ANY', 'EXACT'] as const,
    { 1: 'ALL', 2: 'ANY', 3: 'EXACT' },
  );
  const count = o.count === undefined ? 0 : int64(o.count, `${P}.count`, 0);
  if (selector === 'EXACT' && count < 1)
    throw invalid(`${P}.count`, 'must be at least 1 with selector EXACT');
  return { selector, count };
}

/**
 * The services valid at `now` with a supported API version, newest first (by validFor.start),
 * as the client spec selects them.
 */
export function selectServices(services: Service[], now: Date, versions: number[]): Service[] {
  return services
    .filter((s) => inRange(s.validFor, now) && versions.includes(s.majorApiVersion))
    .sort((a, b) => b.validFor.start.getTime() - a.validFor.start.getTime());
}

function serviceToJSON(s: Service): JsonObject {
  const validFor: JsonObject = { start: formatTimestamp(s.validFor.start) };
  if (s.validFor.end) validFor.end = formatTimestamp(s.validFor.end);
  return { url: s.url, majorApiVersion: s.majorApiVersion, validFor, operator: s.operator };
}

export function signingConfigToJSON(c: SigningConfig): JsonObject {
  const cfg = (x: ServiceConfiguration): JsonObject =>
    x.selector === 'EXACT' ? { selector: x.selector, count: x.count } : { selector: x.selector };
  return {
    mediaType: c.mediaType,
    caUrls: c.caUrls.map(serviceToJSON),
    oidcUrls: c.oidcUrls.map(serviceToJSON),
    rekorTlogUrls: c.rekorTlogUrls.map(serviceToJSON),
    tsaUrls: c.tsaUrls.map(serviceToJSON),
    rekorTlogConfig: cfg(c.rekorTlogConfig),
    tsaConfig: cfg(c.tsaConfig),
  };
}
