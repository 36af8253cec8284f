/**
 * The simple-signing payload cosign signs for legacy `.sig` signatures (sigstore/sigstore
 * pkg/signature/payload, cosign specs/SIGNATURE_SPEC.md):
 * `{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":T},"optional":A}`.
 */
import { invalid, quoteInput } from '../errors.ts';
import { parseDigest, type Digest } from './digest.ts';
import { parseJsonText } from '../json.ts';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface SimpleSigning {
  dockerReference: string;
  manifestDigest: Digest;
  /** `optional`: cosign's -a annotations (any JSON values), or null. */
  optional: Record<string, unknown> | null;
}

/** The payload bytes exactly as cosign marshals them (Go's encoding/json field order). */
export function buildSimpleSigning(
  dockerReference: string,
  digest: Digest,
  annotations: Record<string, string> | undefined,
): Uint8Array {
  const payload = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': digest.text },
      type: SIMPLE_SIGNING_TYPE,
    },
    optional: annotations && Object.keys(annotations).length > 0 ? annotations : null,
  };
  return new TextEncoder().encode(JSON.stringify(payload));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse a payload; the spec's example writes `Docker-manifest-digest`, cosign writes lower case: both are read. */
export function parseSimpleSigning(bytes: Uint8Array, field = 'payload'): SimpleSigning {
  let v: unknown;
  try {
    v = parseJsonText(bytes, field);
  } catch {
    throw invalid(field, 'is not JSON');
  }
  if (!isObject(v) || !isObject(v.critical)) throw invalid(`${field}.critical`, 'is missing');
  const c = v.critical;
  if (c.type !== SIMPLE_SIGNING_TYPE)
    throw invalid(
      `${field}.critical.type`,
      `is ${quoteInput(c.type)}, not "${SIMPLE_SIGNING_TYPE}"`,
    );
  const image = isObject(c.image) ? c.image : {};
  const d = image['docker-manifest-digest'] ?? image['Docker-manifest-digest'];
  if (typeof d !== 'string')
    throw invalid(`${field}.critical.image.docker-manifest-digest`, 'is missing');
  const identity = isObject(c.identity) ? c.identity['docker-reference'] : undefined;
  const optional = v.optional === undefined || v.optional === null ? null : v.optional;
  if (optional !== null && !isObject(optional))
    throw invalid(`${field}.optional`, 'must be an object or null');
  return {
    dockerReference: typeof identity === 'string' ? identity : '',
    manifestDigest: parseDigest(d, `${field}.critical.image.docker-manifest-digest`),
    optional,
  };
}
