import { SignetError } from '../../core/errors.ts';
// the files, not the index: verification pulls in ASN.1 libraries signing never needs
import { encodeTimestampRequest } from '../../core/rfc3161/request.ts';
import { describePkiStatus } from '../../core/rfc3161/status.ts';
import { parseTimestamp, timestampStatus } from '../../core/rfc3161/token.ts';
import { badResponse, type HttpOptions, send, trimSlash } from '../../services/http/outbound.ts';
const { createHash, randomBytes } = process.getBuiltinModule('node:crypto');

/**
 * RFC 3161 timestamp from a TSA speaking sigstore/timestamp-authority's API
 * (`POST /api/v1/timestamp`, servers.md 4). The message imprint is the SHA-256 of the raw
 * signature bytes (client spec: timestamps cover the signature). Returns the DER
 * TimeStampResp, which is what a bundle carries (`rfc3161Timestamps[].signedTimestamp`).
 */
export interface TimestampOptions extends HttpOptions {
  /** `json` (what sigstore-js sends) or `der` (application/timestamp-query). */
  format?: 'json' | 'der';
}

const SERVICE = 'the timestamp authority';

/** The full endpoint: signing configs carry it whole; a bare base URL gets the API path. */
export function timestampEndpoint(url: string): string {
  const u = trimSlash(url);
  return /\/timestamp$/.test(u) ? u : `${u}/api/v1/timestamp`;
}

export async function fetchTimestamp(
  tsaUrl: string,
  signature: Uint8Array,
  opts: TimestampOptions = {},
): Promise<Uint8Array> {
  const url = timestampEndpoint(tsaUrl);
  const digest = createHash('sha256').update(signature).digest();
  const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`);
  let body: Uint8Array | string;
  let contentType: string;
  if (opts.format === 'der') {
    body = encodeTimestampRequest({ hashAlgorithm: 'sha256', digest, nonce, certReq: true });
    contentType = 'application/timestamp-query';
  } else {
    // As sigstore-js sends it (no nonce: a 64-bit JSON number does not survive JSON.parse).
    body = JSON.stringify({
      artifactHash: digest.toString('base64'),
      hashAlgorithm: 'sha256',
      certificates: true,
    });
    contentType = 'application/json';
  }
  const res = await send(
    {
      service: SERVICE,
      method: 'POST',
      url,
      body,
      contentType,
      accept: 'application/timestamp-reply',
    },
    opts,
  );
  checkResponse(res.body, digest, opts.format === 'der' ? nonce : undefined, {
    service: SERVICE,
    url,
  });
  return res.body;
}

/** The answer must be a granted TimeStampResp over our digest (and nonce, when sent). */
function checkResponse(
  der: Uint8Array,
  digest: Uint8Array,
  nonce: bigint | undefined,
  where: { service: string; url: string },
): void {
  const malformed = (e: unknown) =>
    badResponse(where, `the response is not a valid TimeStampResp (${(e as Error).message})`, e);
  // A refusal is a TimeStampResp without a token (RFC 3161 §2.4.2): its status, failInfo and
  // statusString say why, in one line.
  let status;
  try {
    status = timestampStatus(der);
  } catch (e) {
    throw malformed(e);
  }
  if (status && status.status !== 0 && status.status !== 1)
    throw new SignetError(
      'unavailable',
      'TIMESTAMP_REJECTED',
      `${where.service} at ${where.url} did not grant the timestamp: ${describePkiStatus(status)}`,
    );
  let ts;
  try {
    ts = parseTimestamp(der);
  } catch (e) {
    throw malformed(e);
  }
  if (ts.status === undefined)
    throw badResponse(where, 'expected a TimeStampResp, got a bare token');
  if (!Buffer.from(ts.tstInfo.digest).equals(Buffer.from(digest)))
    throw badResponse(where, 'the timestamp covers a different digest than the one requested');
  if (nonce !== undefined && ts.tstInfo.nonce !== nonce)
    throw badResponse(where, 'the timestamp does not echo the request nonce');
}
