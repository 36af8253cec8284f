/**
 * DSSE (Dead Simple Signing Envelope) v1: the pre-authentication encoding that is actually
 * signed, and the JSON envelope. https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
 */
import { invalid } from '../errors.ts';
import { fromBase64, toBase64 } from '../encoding/base64.ts';
import { bytesEqual } from '../encoding/der.ts';

export interface DsseSignature {
  /** Optional, unauthenticated hint; "" when absent. */
  keyid: string;
  sig: Uint8Array;
}

export interface Envelope {
  payloadType: string;
  payload: Uint8Array;
  signatures: DsseSignature[];
}

const enc = new TextEncoder();

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (protocol.md). */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  // Everything before the body is one text, encoded once (LEN is the type's UTF-8 length).
  const head = enc.encode(
    `DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `,
  );
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse a DSSE envelope from its JSON value (`payload` and `sig` in standard base64).
 * `path` prefixes field names in errors (e.g. `dsseEnvelope`).
 */
export function parseEnvelope(value: unknown, path = 'envelope'): Envelope {
  if (!isObject(value)) throw invalid(path, 'must be a JSON object');
  for (const k of Object.keys(value))
    if (!['payload', 'payloadType', 'payload_type', 'signatures'].includes(k))
      throw invalid(`${path}.${k}`, 'is not a known field');
  const payloadType = value.payloadType ?? value.payload_type;
  if (typeof payloadType !== 'string' || payloadType === '')
    throw invalid(`${path}.payloadType`, 'must be a non-empty string');
  if (typeof value.payload !== 'string') throw invalid(`${path}.payload`, 'must be a string');
  const payload = fromBase64(value.payload, `${path}.payload`);
  if (!Array.isArray(value.signatures) || value.signatures.length === 0)
    throw invalid(`${path}.signatures`, 'must be a non-empty array');
  const signatures = value.signatures.map((s: unknown, i: number): DsseSignature => {
    const p = `${path}.signatures[${i}]`;
    if (!isObject(s)) throw invalid(p, 'must be a JSON object');
    for (const k of Object.keys(s))
      if (k !== 'sig' && k !== 'keyid') throw invalid(`${p}.${k}`, 'is not a known field');
    if (typeof s.sig !== 'string') throw invalid(`${p}.sig`, 'must be a string');
    const sig = fromBase64(s.sig, `${p}.sig`);
    if (sig.length === 0) throw invalid(`${p}.sig`, 'must not be empty');
    const keyid = s.keyid ?? '';
    if (typeof keyid !== 'string') throw invalid(`${p}.keyid`, 'must be a string');
    return { keyid, sig };
  });
  return { payloadType, payload, signatures };
}

/** The envelope's JSON value, in the field order DSSE and protobuf-specs use (empty keyid omitted). */
export function envelopeToJSON(e: Envelope): {
  payload: string;
  payloadType: string;
  signatures: Array<{ sig: string; keyid?: string }>;
} {
  return {
    payload: toBase64(e.payload),
    payloadType: e.payloadType,
    signatures: e.signatures.map((s) =>
      s.keyid ? { sig: toBase64(s.sig), keyid: s.keyid } : { sig: toBase64(s.sig) },
    ),
  };
}

/**
 * Whether two envelopes are the same: the same payload type and payload bytes, and the same
 * signatures (key IDs included) in the same order. JSON spelling (field order, spacing) aside.
 */
export function sameEnvelope(a: Envelope, b: Envelope): boolean {
  return (
    a.payloadType === b.payloadType &&
    bytesEqual(a.payload, b.payload) &&
    a.signatures.length === b.signatures.length &&
    a.signatures.every(
      (s, i) => s.keyid === b.signatures[i]!.keyid && bytesEqual(s.sig, b.signatures[i]!.sig),
    )
  );
}
