/**
 * `signing-config create` (cosign v3's command, cmd/cosign/cli/signingconfig): a
 * signing_config.json (v0.2) from service specs `url=URL,api-version=N,start-time=RFC3339,
 * operator=NAME[,end-time=RFC3339]`, the log and TSA selection `ANY|ALL|EXACT:n`, optionally on
 * top of a base config whose services a kind of flag replaces (`--no-default-*` drops them).
 * The result goes through the strict parser and writer, so what is printed is what clients read.
 */
import {
  parseSigningConfig,
  SIGNING_CONFIG_MEDIA_TYPE_V02,
  signingConfigToJSON,
  type SigningConfig,
} from '../../bundle/signing-config.ts';
import type { JsonObject } from '../../bundle/json.ts';
import { invalid } from '../../core/errors.ts';

export interface SigningConfigSpecs {
  fulcio: string[];
  rekor: string[];
  oidcProvider: string[];
  tsa: string[];
  rekorConfig?: string;
  tsaConfig?: string;
  /** The base config (already parsed), e.g. a stack's own. */
  base?: SigningConfig;
  noDefaultFulcio?: boolean;
  noDefaultRekor?: boolean;
  noDefaultOidc?: boolean;
  noDefaultTsa?: boolean;
}

const KEYS = ['url', 'api-version', 'start-time', 'operator', 'end-time'];

/** One service spec as protobuf JSON; errors name the flag. */
export function parseSigningServiceSpec(spec: string, flag: string): JsonObject {
  const kv: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid(flag, `"${part}" is not key=value`);
    const k = part.slice(0, eq).trim();
    if (!KEYS.includes(k)) throw invalid(flag, `unknown key "${k}" (keys: ${KEYS.join(', ')})`);
    if (Object.hasOwn(kv, k)) throw invalid(flag, `key "${k}" is given twice`);
    kv[k] = part.slice(eq + 1).trim();
  }
  for (const k of ['url', 'api-version', 'start-time', 'operator'])
    if (!kv[k]) throw invalid(flag, `missing required key "${k}" in service spec`);
  try {
    const u = new URL(kv.url!);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw invalid(`${flag} url`, `"${kv.url}" is not an http(s) URL`);
  }
  if (!/^[1-9]\d{0,8}$/.test(kv['api-version']!))
    throw invalid(
      `${flag} api-version`,
      `"${kv['api-version']}" is not a version number (1, 2, ...)`,
    );
  const time = (k: string) => {
    const v = kv[k]!;
    if (
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) ||
      Number.isNaN(Date.parse(v))
    )
      throw invalid(`${flag} ${k}`, `"${v}" is not an RFC 3339 time`);
    return new Date(v).toISOString();
  };
  const validFor: JsonObject = { start: time('start-time') };
  if (kv['end-time']) validFor.end = time('end-time');
  return {
    url: kv.url,
    majorApiVersion: Number(kv['api-version']),
    validFor,
    operator: kv.operator,
  };
}

/** `ANY`, `ALL` or `EXACT:n`. */
export function parseSelector(text: string, flag: string): JsonObject {
  const [mode, count, ...rest] = text.split(':');
  const m = mode!.toUpperCase();
  if (rest.length > 0) throw invalid(flag, `"${text}" is not ANY, ALL or EXACT:<count>`);
  if (m === 'ANY' || m === 'ALL') {
    if (count !== undefined) throw invalid(flag, `mode ${m} does not accept a count`);
    return { selector: m };
  }
  if (m === 'EXACT') {
    if (count === undefined || !/^[1-9]\d{0,8}$/.test(count))
      throw invalid(flag, 'mode EXACT requires a count of at least 1, e.g. EXACT:2');
    return { selector: 'EXACT', count: Number(count) };
  }
  throw invalid(flag, `"${text}" is not ANY, ALL or EXACT:<count>`);
}

export function createSigningConfig(s: SigningConfigSpecs): JsonObject {
  if (s.rekor.length > 0 && s.rekorConfig === undefined)
    throw invalid('--rekor-config', 'must be given with --rekor (ANY, ALL or EXACT:<count>)');
  if (s.tsa.length > 0 && s.tsaConfig === undefined)
    throw invalid('--tsa-config', 'must be given with --tsa (ANY, ALL or EXACT:<count>)');
  const base = s.base ? signingConfigToJSON(s.base) : undefined;
  const pick = (specs: string[], flag: string, key: string, drop: boolean | undefined) => {
    const from = specs.length === 0 && !drop && base ? (base[key] as JsonObject[]) : [];
    return [...from, ...specs.map((x) => parseSigningServiceSpec(x, flag))];
  };
  const json: JsonObject = {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
    caUrls: pick(s.fulcio, '--fulcio', 'caUrls', s.noDefaultFulcio),
    oidcUrls: pick(s.oidcProvider, '--oidc-provider', 'oidcUrls', s.noDefaultOidc),
    rekorTlogUrls: pick(s.rekor, '--rekor', 'rekorTlogUrls', s.noDefaultRekor),
    tsaUrls: pick(s.tsa, '--tsa', 'tsaUrls', s.noDefaultTsa),
    rekorTlogConfig:
      s.rekorConfig !== undefined
        ? parseSelector(s.rekorConfig, '--rekor-config')
        : ((base?.rekorTlogConfig as JsonObject | undefined) ?? { selector: 'ANY' }),
    tsaConfig:
      s.tsaConfig !== undefined
        ? parseSelector(s.tsaConfig, '--tsa-config')
        : ((base?.tsaConfig as JsonObject | undefined) ?? { selector: 'ANY' }),
  };
  return signingConfigToJSON(parseSigningConfig(json));
}
