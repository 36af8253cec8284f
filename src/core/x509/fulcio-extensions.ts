import { invalid } from '../errors.ts';
import { content, readTlv, TAG, tlv } from '../encoding/der.ts';
import type { X509Certificate } from './certificate.ts';

/**
 * Fulcio's certificate extensions under 1.3.6.1.4.1.57264.1 (fulcio docs/oid-info.md,
 * pkg/certificate/extensions.go). Arcs 1..6 carry the raw UTF-8 bytes as the extension value
 * (deprecated, no DER wrapping); arcs 8..24 carry a DER UTF8String. Arc 7 is the OtherName
 * SAN type-id, not an extension.
 */
export const FULCIO_OID_PREFIX = '1.3.6.1.4.1.57264.1.';

export const FULCIO_EXTENSION_NAMES: Record<number, string> = {
  1: 'issuer',
  2: 'githubWorkflowTrigger',
  3: 'githubWorkflowSha',
  4: 'githubWorkflowName',
  5: 'githubWorkflowRepository',
  6: 'githubWorkflowRef',
  8: 'issuerV2',
  9: 'buildSignerUri',
  10: 'buildSignerDigest',
  11: 'runnerEnvironment',
  12: 'sourceRepositoryUri',
  13: 'sourceRepositoryDigest',
  14: 'sourceRepositoryRef',
  15: 'sourceRepositoryIdentifier',
  16: 'sourceRepositoryOwnerUri',
  17: 'sourceRepositoryOwnerIdentifier',
  18: 'buildConfigUri',
  19: 'buildConfigDigest',
  20: 'buildTrigger',
  21: 'runInvocationUri',
  22: 'sourceRepositoryVisibilityAtSigning',
  23: 'deploymentEnvironment',
  24: 'tokenSubject',
};

/** The order Fulcio renders them in (extensions.go `Render`): 1, 2..6, 8, 9..24. */
export const FULCIO_EXTENSION_ORDER: readonly number[] = [
  1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
];

export function fulcioOid(arc: number): string {
  return `${FULCIO_OID_PREFIX}${arc}`;
}

const utf8 = new TextEncoder();
// A leading U+FEFF is part of the value (Fulcio writes what the token said), not a byte order mark.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The extnValue bytes Fulcio writes for arc `arc` with text `value`. */
export function encodeFulcioExtension(arc: number, value: string): Uint8Array {
  if (!(arc in FULCIO_EXTENSION_NAMES)) throw new Error(`no Fulcio extension with arc ${arc}`);
  const raw = utf8.encode(value);
  return arc <= 6 ? raw : tlv(TAG.UTF8_STRING, raw);
}

/** Decodes the extnValue of Fulcio extension `arc`; errors name `field`. */
export function decodeFulcioExtension(arc: number, value: Uint8Array, field: string): string {
  try {
    if (arc <= 6) return strictUtf8.decode(value);
    const t = readTlv(value, 0, field);
    if (t.tag !== TAG.UTF8_STRING || t.end !== value.length)
      throw invalid(field, 'is not a single DER UTF8String (Fulcio encodes arcs 8-24 that way)');
    return strictUtf8.decode(content(value, t));
  } catch (e) {
    if (e instanceof TypeError) throw invalid(field, 'is not valid UTF-8', e);
    throw e;
  }
}

/**
 * The Fulcio extension values of a certificate by arc (only those present), decoded.
 * Unknown arcs under the prefix are ignored, as Fulcio's own parser does.
 */
export function fulcioExtensions(cert: X509Certificate): Readonly<Partial<Record<number, string>>> {
  // Policy checks and results read them several times per verification: decoded once per
  // certificate object (the object is the parse of fixed bytes).
  let out = decoded.get(cert);
  if (out) return out;
  out = Object.freeze(decodeAll(cert));
  decoded.set(cert, out);
  return out;
}

const decoded = new WeakMap<X509Certificate, Readonly<Partial<Record<number, string>>>>();

function decodeAll(cert: X509Certificate): Partial<Record<number, string>> {
  const out: Partial<Record<number, string>> = {};
  for (const e of cert.extensions) {
    if (!e.oid.startsWith(FULCIO_OID_PREFIX)) continue;
    const rest = e.oid.slice(FULCIO_OID_PREFIX.length);
    if (!/^\d+$/.test(rest)) continue;
    const arc = Number(rest);
    if (!(arc in FULCIO_EXTENSION_NAMES)) continue;
    out[arc] = decodeFulcioExtension(arc, e.value, `certificate.extensions[${e.oid}]`);
  }
  return out;
}

/** The same values keyed by readable name (e.g. `issuerV2`, `buildSignerUri`). */
export function namedFulcioExtensions(cert: X509Certificate): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [arc, v] of Object.entries(fulcioExtensions(cert)))
    out[FULCIO_EXTENSION_NAMES[Number(arc)]!] = v!;
  return out;
}

/**
 * The OIDC issuer a Fulcio certificate names: the V2 extension (.8) when present, else the
 * deprecated raw one (.1), as sigstore clients read it.
 */
export function fulcioIssuer(cert: X509Certificate): string | undefined {
  const x = fulcioExtensions(cert);
  return x[8] ?? x[1];
}
