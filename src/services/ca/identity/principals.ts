import type { ErrorCode } from '../../../core/errors.ts';
import { SignetError, quoteInput } from '../../../core/errors.ts';
import type { CiProviderMetadata, IssuerConfig, IssuerEntry } from './config.ts';
import { compileTemplate, type CompiledTemplate, TemplateError } from './template.ts';
import type { FulcioExtensionValues, Principal } from './types.ts';
import { FULCIO_EXTENSION_NAMES } from '../../../core/x509/fulcio-extensions.ts';

/**
 * Issuer type -> Principal, as Fulcio derives it (fulcio:pkg/identity/<type>/principal.go,
 * servers.md 1.5-1.7). The claims have been verified (signature, iss, aud, times) already.
 * Every principal carries the issuer (.1 and .8) and the raw `sub` (.24, Token Subject).
 */
export type Claims = Readonly<Record<string, unknown>>;

function fail(code: ErrorCode, message: string): SignetError {
  return new SignetError('unauthorized', code, message);
}

function requireString(claims: Claims, name: string, why: string): string {
  const v = claims[name];
  if (typeof v !== 'string' || v === '')
    throw fail('TOKEN_CLAIMS', `the token has no "${name}" claim (a non-empty string), ${why}`);
  return v;
}

function baseExtensions(issuer: string, sub: string): FulcioExtensionValues {
  const ext: FulcioExtensionValues = { 1: issuer, 8: issuer };
  if (sub) ext[24] = sub;
  return ext;
}

/** `v[name]` when `v` is an object (claims nest), else undefined. */
function member(v: unknown, name: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[name] : undefined;
}

/** The principal of the types whose challenge is `sub` and whose SAN is derived from it. */
function subjectPrincipal(iss: string, sub: string, san: Principal['san']): Principal {
  return { issuer: iss, subject: sub, challenge: sub, san, extensions: baseExtensions(iss, sub) };
}

const EMAIL_RE = /^.+@.+\..+$/;

function emailPrincipal(entry: IssuerEntry, iss: string, claims: Claims, sub: string): Principal {
  const email = requireString(claims, 'email', 'which email identities need');
  const verified = claims['email_verified'];
  if (!entry.skipEmailVerification && verified !== true && verified !== 'true')
    throw fail(
      'EMAIL_NOT_VERIFIED',
      `the email ${email} is not verified by the issuer (email_verified is ${quoteInput(verified ?? null)}, must be true)`,
    );
  if (!EMAIL_RE.test(email)) throw fail('TOKEN_CLAIMS', `"${email}" is not an email address`);
  let issuer = iss;
  if (entry.issuerClaim) {
    // Dex-style federation: the upstream issuer is named by a claim (e.g. $.federated_claims.connector_id).
    let v: unknown = claims;
    for (const part of entry.issuerClaim.slice(2).split('.')) v = member(v, part);
    if (typeof v !== 'string' || v === '')
      throw fail('TOKEN_CLAIMS', `the token has no issuer claim at ${entry.issuerClaim}`);
    issuer = v;
  }
  return {
    issuer,
    subject: sub,
    challenge: email,
    san: { type: 'email', value: email },
    extensions: baseExtensions(issuer, sub),
  };
}

function spiffePrincipal(entry: IssuerEntry, iss: string, sub: string): Principal {
  // SPIFFE ID: spiffe://<trust domain>/<path> (SPIFFE-ID.md section 2).
  const m = /^spiffe:\/\/([a-z0-9._-]+)(\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?$/.exec(sub);
  if (!m || !m[2] || m[2] === '/' || m[2].includes('//') || m[2].endsWith('/'))
    throw fail('TOKEN_CLAIMS', `sub "${sub}" is not a SPIFFE ID (spiffe://<trust-domain>/<path>)`);
  if (m[1] !== entry.spiffeTrustDomain)
    throw fail(
      'TOKEN_CLAIMS',
      `SPIFFE ID ${sub} is in trust domain "${m[1]}", but this issuer may only vouch for "${entry.spiffeTrustDomain}"`,
    );
  return subjectPrincipal(iss, sub, { type: 'uri', value: sub });
}

function kubernetesPrincipal(iss: string, claims: Claims, sub: string): Principal {
  const k = claims['kubernetes.io'];
  const ns = member(k, 'namespace');
  const sa = member(member(k, 'serviceaccount'), 'name');
  const segment = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (typeof ns !== 'string' || !segment.test(ns))
    throw fail('TOKEN_CLAIMS', 'the token has no valid "kubernetes.io".namespace claim');
  if (typeof sa !== 'string' || !segment.test(sa))
    throw fail('TOKEN_CLAIMS', 'the token has no valid "kubernetes.io".serviceaccount.name claim');
  return subjectPrincipal(iss, sub, {
    type: 'uri',
    value: `https://kubernetes.io/namespaces/${ns}/serviceaccounts/${sa}`,
  });
}

function uriPrincipal(entry: IssuerEntry, iss: string, sub: string): Principal {
  if (EMAIL_RE.test(sub) && !sub.includes('://'))
    throw fail('TOKEN_CLAIMS', `sub "${sub}" is an email address, not a URI`);
  let u: URL;
  try {
    u = new URL(sub);
  } catch {
    throw fail('TOKEN_CLAIMS', `sub "${sub}" is not a URI`);
  }
  const d = new URL(entry.subjectDomain!);
  if (u.protocol !== d.protocol)
    throw fail(
      'TOKEN_CLAIMS',
      `sub URI scheme (${u.protocol.slice(0, -1)}) must match the configured subject domain's (${d.protocol.slice(0, -1)})`,
    );
  if (u.hostname !== d.hostname)
    throw fail(
      'TOKEN_CLAIMS',
      `sub URI host (${u.hostname}) must match the configured subject domain (${d.hostname})`,
    );
  return subjectPrincipal(iss, sub, { type: 'uri', value: sub });
}

function usernamePrincipal(entry: IssuerEntry, iss: string, sub: string): Principal {
  if (sub.includes('!'))
    throw fail('TOKEN_CLAIMS', `sub "${sub}" must not contain "!" (it separates user and domain)`);
  if (EMAIL_RE.test(sub))
    throw fail('TOKEN_CLAIMS', `sub "${sub}" is an email address, not a username`);
  return subjectPrincipal(iss, sub, { type: 'username', value: `${sub}!${entry.subjectDomain!}` });
}

/** Claims flattened to strings as Fulcio's templates see them. */
function flattenClaims(claims: Claims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(claims)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number')
      out[k] = Number.isInteger(v) ? BigInt(v).toString() : String(v); // never an exponent
    else if (typeof v === 'boolean') out[k] = v ? 'true' : 'false';
    else if (v !== null && v !== undefined) out[k] = JSON.stringify(v);
  }
  return out;
}

const compiled = new Map<string, CompiledTemplate>();

function applyTemplate(t: string, data: Record<string, string>, what: string): string {
  try {
    if (!t.includes('{{')) {
      if (!Object.hasOwn(data, t))
        throw new TemplateError(`the token has no "${t}" claim and there is no default for it`);
      return data[t]!;
    }
    let c = compiled.get(t);
    if (!c) {
      c = compileTemplate(t);
      if (compiled.size < 1000) compiled.set(t, c);
    }
    return c.execute(data);
  } catch (e) {
    if (e instanceof TemplateError)
      throw fail('TOKEN_CLAIMS', `cannot build ${what} from the token's claims: ${e.message}`);
    throw e;
  }
}

/** ci-provider (and the legacy CI types): SAN and extensions from claim templates (servers.md 1.7). */
export function ciPrincipal(
  meta: CiProviderMetadata,
  iss: string,
  claims: Claims,
  sub: string,
): Principal {
  // Defaults overlaid by claims: the claims win.
  const data = { ...meta.defaultTemplateValues, ...flattenClaims(claims) };
  const san = applyTemplate(
    meta.subjectAlternativeNameTemplate,
    data,
    'the subject alternative name',
  );
  try {
    new URL(san);
  } catch {
    throw fail(
      'TOKEN_CLAIMS',
      `the subject alternative name "${san}" built from the token is not a URI`,
    );
  }
  const extensions = baseExtensions(iss, sub);
  for (const [n, t] of Object.entries(meta.extensionTemplates)) {
    if (t.trim() === '') continue;
    const v = applyTemplate(t, data, `extension 1.3.6.1.4.1.57264.1.${n}`);
    if (v !== '') extensions[Number(n)] = v;
  }
  return {
    issuer: iss,
    subject: sub,
    challenge: sub,
    san: { type: 'uri', value: san },
    extensions,
  };
}

/** C0 and C1 controls and DEL (explorer/query.ts refuses C0 and DEL in a search term). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * Refuses a principal whose certificate text holds what no identity does: a control character
 * (a NUL ends the name for C readers, and what each reader shows, stores or matches differs)
 * or a lone surrogate (no Unicode text: written as U+FFFD, the certificate would name another
 * identity than the token). The SAN's forms that are IA5Strings are held to printable ASCII
 * where the certificate is built (core/x509/build.ts).
 */
function checkText(p: Principal): Principal {
  const texts: Array<[string, string]> = [
    [`${p.san.type} identity`, p.san.value],
    ...Object.entries(p.extensions).map(([arc, v]): [string, string] => [
      `value of extension 1.3.6.1.4.1.57264.1.${arc} (${FULCIO_EXTENSION_NAMES[Number(arc)]})`,
      v ?? '',
    ]),
  ];
  for (const [what, v] of texts) {
    const c = CONTROL.exec(v);
    if (c)
      throw fail(
        'TOKEN_CLAIMS',
        `the ${what} from the token, ${quoteInput(v)}, holds the control character U+${c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}; a certificate names none`,
      );
    if (!v.isWellFormed())
      throw fail(
        'TOKEN_CLAIMS',
        `the ${what} from the token, ${quoteInput(v)}, is not Unicode text (it holds a lone surrogate)`,
      );
  }
  return p;
}

export function principalFor(
  entry: IssuerEntry,
  config: IssuerConfig,
  iss: string,
  claims: Claims,
  sub: string,
): Principal {
  return checkText(principalOf(entry, config, iss, claims, sub));
}

function principalOf(
  entry: IssuerEntry,
  config: IssuerConfig,
  iss: string,
  claims: Claims,
  sub: string,
): Principal {
  switch (entry.type) {
    case 'email':
      return emailPrincipal(entry, iss, claims, sub);
    case 'spiffe':
      return spiffePrincipal(entry, iss, sub);
    case 'kubernetes':
      return kubernetesPrincipal(iss, claims, sub);
    case 'uri':
      return uriPrincipal(entry, iss, sub);
    case 'username':
      return usernamePrincipal(entry, iss, sub);
    case 'ci-provider':
    case 'github-workflow':
    case 'gitlab-pipeline':
    case 'buildkite-job': {
      const meta = config.ciIssuerMetadata[entry.ciProvider ?? entry.type];
      if (!meta)
        throw new SignetError(
          'internal',
          'ISSUER_CONFIG',
          `no ci-issuer-metadata for ${entry.ciProvider}`,
        );
      return ciPrincipal(meta, iss, claims, sub);
    }
  }
}
