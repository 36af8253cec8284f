import { invalid, quoteInput } from '../../../core/errors.ts';
import { decodePemAll } from '../../../core/encoding/pem.ts';
const { X509Certificate } = process.getBuiltinModule('node:crypto');
import { BUILTIN_CI_PROVIDERS, EXTENSION_KEYS } from './ci-providers.ts';
import { compileTemplate, TemplateError } from './template.ts';
import { readTextFile } from '../../read-file.ts';
import { parseRequiredClaims, type ClaimRequirement } from './required-claims.ts';
import { parseYamlDocument } from '../../../core/yaml.ts';

/**
 * The CA's identity configuration, in Fulcio's file shape (fulcio:pkg/config/config.go):
 * `oidc-issuers` (exact issuer URLs), `meta-issuers` (wildcard URLs, `*` = one
 * `[-_a-zA-Z0-9]+` segment) and `ci-issuer-metadata` (claim templates per CI provider).
 * Only issuers named here are trusted.
 */
export const ISSUER_TYPES = [
  'email',
  'github-workflow',
  'gitlab-pipeline',
  'buildkite-job',
  'spiffe',
  'kubernetes',
  'uri',
  'username',
  'ci-provider',
] as const;
export type IssuerType = (typeof ISSUER_TYPES)[number];

export interface IssuerEntry {
  /** The exact `iss` value (for meta-issuers: the wildcard pattern). */
  issuerUrl: string;
  /** Expected audience (`client-id`); default `sigstore`. */
  clientId: string;
  type: IssuerType;
  /** For `ci-provider` (and the legacy CI types): key into `ciIssuerMetadata`. */
  ciProvider?: string;
  /** For `email`: JSONPath-like `$.a.b` of a claim replacing the issuer (Dex federation). */
  issuerClaim?: string;
  /** For `uri` (scheme://host) and `username` (a domain without scheme). */
  subjectDomain?: string;
  /** For `spiffe`: the trust domain every `sub` must be in. */
  spiffeTrustDomain?: string;
  /** For `email`: accept tokens without `email_verified: true` (Fulcio's `skip-email-verification`). */
  skipEmailVerification: boolean;
  description?: string;
  contact?: string;
  /** Signet's `required-claims`: what a token's claims must hold to get a certificate. */
  requiredClaims?: ClaimRequirement[];
  /** Fulcio's `challenge-claim`: the claim the configuration API names for the challenge. */
  challengeClaim?: string;
  /**
   * Fulcio's `ca-cert`: CA certificates (PEM) trusted, beside the system's, for TLS to this
   * issuer (an identity provider behind an internal CA, fulcio#1665).
   */
  caCert?: string;
}

/** The keys of an issuer entry: Fulcio's (pkg/config/config.go, yaml names) and Signet's. */
const ENTRY_KEYS = [
  'issuer-url',
  'client-id',
  'type',
  'ci-provider',
  'issuer-claim',
  'subject-domain',
  'spiffe-trust-domain',
  'challenge-claim',
  'description',
  'contact',
  'environment', // Fulcio's too: metadata, unused
  'ca-cert',
  'skip-email-verification',
  'required-claims',
];
/** `define` holds YAML anchors in Fulcio's own configuration (config/identity/config.yaml). */
const ROOT_KEYS = ['define', 'oidc-issuers', 'meta-issuers', 'ci-issuer-metadata'];
const CI_KEYS = [
  'default-template-values',
  'extension-templates',
  'subject-alternative-name-template',
];

/**
 * `o` with its keys in Fulcio's YAML names, or an error naming a key that is not one of
 * `known`: a misspelt key would otherwise be dropped without a word, and for `required-claims`
 * that means issuing to everyone. Fulcio's JSON files name the same fields in Go's style
 * (`OIDCIssuers`, `IssuerURL`, `ClientID`, `CACert`), which Go matches in any case: a key is
 * also taken for the known one it spells without dashes, in any case.
 */
function fulcioKeys(
  o: Record<string, unknown>,
  known: readonly string[],
  field: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const name = fulcioName(k, known);
    if (name === undefined)
      throw invalid(`${field}.${k}`, `is not a key here (known: ${known.join(', ')})`);
    if (Object.hasOwn(out, name))
      throw invalid(`${field}.${k}`, `is ${name} again, in another spelling`);
    out[name] = v;
  }
  return out;
}

/** The YAML name among `known` that `k` is: itself, or Go's JSON spelling of it (BuildSignerURI). */
function fulcioName(k: string, known: readonly string[]): string | undefined {
  return known.includes(k) ? k : known.find((n) => n.replaceAll('-', '') === k.toLowerCase());
}

export interface CiProviderMetadata {
  defaultTemplateValues: Record<string, string>;
  /** Fulcio extension number (2..23) -> template (or a bare claim name). */
  extensionTemplates: Record<number, string>;
  subjectAlternativeNameTemplate: string;
}

export interface IssuerConfig {
  oidcIssuers: IssuerEntry[];
  metaIssuers: IssuerEntry[];
  ciIssuerMetadata: Record<string, CiProviderMetadata>;
}

/** Reads a YAML or JSON issuer configuration file (named by the setting `field`, if any). */
export function loadIssuerConfig(file: string, field?: string): IssuerConfig {
  return parseIssuerConfig(
    readTextFile(file, 'issuer configuration', {
      code: 'ISSUER_CONFIG',
      ...(field === undefined ? {} : { field }),
    }),
    file,
  );
}

/** Parses the text (YAML; JSON is YAML) or an already-parsed object. */
export function parseIssuerConfig(input: string | unknown, source = 'issuer config'): IssuerConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    raw = parseYamlDocument(input, source, { maxAliasCount: 1000 });
  }
  const root = fulcioKeys(obj(raw ?? {}, source), ROOT_KEYS, source);
  const ciIssuerMetadata: Record<string, CiProviderMetadata> = { ...BUILTIN_CI_PROVIDERS };
  const metaRaw = root['ci-issuer-metadata'];
  if (metaRaw !== undefined) {
    for (const [name, v] of Object.entries(obj(metaRaw, `${source}: ci-issuer-metadata`)))
      ciIssuerMetadata[name] = parseCiMetadata(v, `${source}: ci-issuer-metadata.${name}`);
  }
  const oidcIssuers: IssuerEntry[] = [];
  const issuersRaw = root['oidc-issuers'];
  if (issuersRaw !== undefined) {
    for (const [key, v] of Object.entries(obj(issuersRaw, `${source}: oidc-issuers`))) {
      const e = parseEntry(key, v, `${source}: oidc-issuers.${key}`, false, ciIssuerMetadata);
      oidcIssuers.push(e);
    }
  }
  const metaIssuers: IssuerEntry[] = [];
  const metaIssuersRaw = root['meta-issuers'];
  if (metaIssuersRaw !== undefined) {
    for (const [key, v] of Object.entries(obj(metaIssuersRaw, `${source}: meta-issuers`))) {
      metaIssuers.push(
        parseEntry(key, v, `${source}: meta-issuers.${key}`, true, ciIssuerMetadata),
      );
    }
  }
  return { oidcIssuers, metaIssuers, ciIssuerMetadata };
}

function parseEntry(
  key: string,
  v: unknown,
  field: string,
  meta: boolean,
  ci: Record<string, CiProviderMetadata>,
): IssuerEntry {
  const o = fulcioKeys(obj(v, field), ENTRY_KEYS, field);
  const issuerUrl = meta ? key : (optStr(o, 'issuer-url', field) ?? key);
  if (!meta && issuerUrl !== key)
    throw invalid(field, `issuer-url "${issuerUrl}" differs from its key "${key}"`);
  checkUrl(issuerUrl, `${field}.issuer-url`, meta);
  const type = optStr(o, 'type', field);
  if (!type || !(ISSUER_TYPES as readonly string[]).includes(type))
    throw invalid(
      `${field}.type`,
      `must be one of ${ISSUER_TYPES.join(', ')} (got ${quoteInput(type ?? null)})`,
    );
  const e: IssuerEntry = {
    issuerUrl,
    clientId: optStr(o, 'client-id', field) ?? 'sigstore',
    type: type as IssuerType,
    skipEmailVerification: o['skip-email-verification'] === true,
  };
  const set = (k: keyof IssuerEntry, yamlKey: string) => {
    const s = optStr(o, yamlKey, field);
    if (s !== undefined) (e as unknown as Record<string, unknown>)[k] = s;
  };
  set('ciProvider', 'ci-provider');
  set('issuerClaim', 'issuer-claim');
  set('subjectDomain', 'subject-domain');
  set('spiffeTrustDomain', 'spiffe-trust-domain');
  set('description', 'description');
  set('contact', 'contact');
  set('challengeClaim', 'challenge-claim');
  optStr(o, 'environment', field);
  const caCert = optStr(o, 'ca-cert', field);
  if (caCert !== undefined) e.caCert = checkCaCert(caCert, `${field}.ca-cert`);
  if (o['required-claims'] !== undefined)
    e.requiredClaims = parseRequiredClaims(o['required-claims'], `${field}.required-claims`);
  // Per-type requirements (fulcio:pkg/config/config.go validate*).
  if (e.issuerClaim !== undefined) {
    if (e.type !== 'email') throw invalid(`${field}.issuer-claim`, 'only email issuers may use it');
    if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(e.issuerClaim))
      throw invalid(`${field}.issuer-claim`, `"${e.issuerClaim}" is not a path like $.a.b`);
  }
  if (e.type === 'ci-provider') {
    if (!e.ciProvider) throw invalid(`${field}.ci-provider`, 'required for type ci-provider');
  } else if (
    e.type === 'github-workflow' ||
    e.type === 'gitlab-pipeline' ||
    e.type === 'buildkite-job'
  ) {
    e.ciProvider = e.ciProvider ?? e.type; // the legacy types use the built-in templates
  }
  if (e.ciProvider !== undefined && !Object.hasOwn(ci, e.ciProvider))
    throw invalid(`${field}.ci-provider`, `no ci-issuer-metadata named "${e.ciProvider}"`);
  if (e.type === 'spiffe') {
    if (meta) throw invalid(field, 'spiffe issuers cannot be meta-issuers');
    if (!e.spiffeTrustDomain || !/^[a-z0-9._-]+$/.test(e.spiffeTrustDomain))
      throw invalid(`${field}.spiffe-trust-domain`, 'required: a SPIFFE trust domain name');
  }
  if (e.type === 'uri') {
    if (meta) throw invalid(field, 'uri issuers cannot be meta-issuers');
    if (!e.subjectDomain) throw invalid(`${field}.subject-domain`, 'required for type uri');
    let d: URL;
    try {
      d = new URL(e.subjectDomain);
    } catch {
      throw invalid(`${field}.subject-domain`, `"${e.subjectDomain}" is not a URL with a scheme`);
    }
    if (!sameRegistrableDomain(d.hostname, new URL(issuerUrl).hostname))
      throw invalid(
        `${field}.subject-domain`,
        `host ${d.hostname} must share its top-level domain + 1 with the issuer's host`,
      );
  }
  if (e.type === 'username') {
    if (meta) throw invalid(field, 'username issuers cannot be meta-issuers');
    if (!e.subjectDomain) throw invalid(`${field}.subject-domain`, 'required for type username');
    if (e.subjectDomain.includes('://'))
      throw invalid(`${field}.subject-domain`, 'must be a domain without a scheme');
    if (!sameRegistrableDomain(e.subjectDomain, new URL(issuerUrl).hostname))
      throw invalid(
        `${field}.subject-domain`,
        `${e.subjectDomain} must share its top-level domain + 1 with the issuer's host`,
      );
  }
  return e;
}

function parseCiMetadata(v: unknown, field: string): CiProviderMetadata {
  const o = fulcioKeys(obj(v, field), CI_KEYS, field);
  const defaults: Record<string, string> = {};
  if (o['default-template-values'] !== undefined) {
    for (const [k, val] of Object.entries(
      obj(o['default-template-values'], `${field}.default-template-values`),
    )) {
      if (typeof val !== 'string')
        throw invalid(`${field}.default-template-values.${k}`, 'must be a string');
      defaults[k] = val;
    }
  }
  const extensionTemplates: Record<number, string> = {};
  if (o['extension-templates'] !== undefined) {
    const names = Object.keys(EXTENSION_KEYS);
    const templates = obj(o['extension-templates'], `${field}.extension-templates`);
    for (const [k, val] of Object.entries(templates)) {
      const name = fulcioName(k, names);
      const n = name === undefined ? undefined : EXTENSION_KEYS[name];
      if (n === undefined)
        throw invalid(`${field}.extension-templates.${k}`, 'not a Fulcio extension name');
      if (typeof val !== 'string')
        throw invalid(`${field}.extension-templates.${k}`, 'must be a string');
      checkTemplate(val, `${field}.extension-templates.${k}`);
      extensionTemplates[n] = val;
    }
  }
  const san = o['subject-alternative-name-template'];
  if (typeof san !== 'string' || san.trim() === '')
    throw invalid(
      `${field}.subject-alternative-name-template`,
      'required (a template giving a URI)',
    );
  checkTemplate(san, `${field}.subject-alternative-name-template`);
  return {
    defaultTemplateValues: defaults,
    extensionTemplates,
    subjectAlternativeNameTemplate: san,
  };
}

function checkTemplate(t: string, field: string): void {
  if (!t.includes('{{')) return;
  try {
    compileTemplate(t);
  } catch (e) {
    if (e instanceof TemplateError) throw invalid(field, `bad template: ${e.message}`);
    throw e;
  }
}

/** `ca-cert`'s PEM text, checked to hold certificates (and nothing else) that parse. */
function checkCaCert(pem: string, field: string): string {
  decodePemAll(pem, field).forEach((b, i) => {
    if (b.label !== 'CERTIFICATE')
      throw invalid(field, `PEM block ${i + 1} is "${b.label}", not a CERTIFICATE`);
    try {
      new X509Certificate(b.der);
    } catch (e) {
      throw invalid(field, `certificate ${i + 1} does not parse: ${(e as Error).message}`, e);
    }
  });
  return pem;
}

function checkUrl(u: string, field: string, meta: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(meta ? u.replaceAll('*', 'x') : u);
  } catch {
    throw invalid(field, `"${u}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw invalid(field, `"${u}" must be an http(s) URL`);
}

/**
 * A cheap stand-in for Fulcio's public-suffix "TLD+1" comparison: IP addresses and single-label
 * hosts must be equal; names must share their last two labels.
 */
function sameRegistrableDomain(given: string, issuerHost: string): boolean {
  // A URL's hostname keeps an IPv6 address in brackets ([::1]); a subject domain is written bare.
  const bare = (h: string) => h.replace(/^\[(.*)\]$/, '$1');
  const a = bare(given);
  const b = bare(issuerHost);
  const ip = /^[0-9.]+$|:/;
  if (ip.test(a) || ip.test(b) || !a.includes('.') || !b.includes('.')) return a === b;
  const last2 = (h: string) => h.toLowerCase().split('.').slice(-2).join('.');
  return last2(a) === last2(b);
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'must be a map');
  return v as Record<string, unknown>;
}

function optStr(o: Record<string, unknown>, k: string, field: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${field}.${k}`, 'must be a string');
  return v;
}

/**
 * Compiles a meta-issuer pattern to an anchored regexp: every character is literal except `*`,
 * which matches exactly one `[-_a-zA-Z0-9]+` segment (fix for GHSA-59jp-pj84-45mr, where an
 * unescaped pattern let `https://oidc.eks.x.amazonaws.com.evil.example/...` through).
 */
export function metaIssuerRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((lit) => lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('[-_a-zA-Z0-9]+');
  return new RegExp(`^${body}$`);
}
