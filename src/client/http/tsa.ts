import { SignetError } from '../../core/errors.ts';
// the files, not the index: verification pulls in ASN.1 libraries signing never needs
import { encodeTimestampRequest } from '../../core/rfc3161/request.ts';
import { describePkiStatus } from '../../core/rfc3161/status.ts';
import { parseTimestamp, timestampStatus } from '../../core/rfc3161/token.ts';
import { badResponse, type HttpOptions, send, trimSlash } from '../../services/http/outbound.ts';
const { createHash, randomBytes } = process.getBuiltinModule('node:crypto');

const SERVICE = 'the timestamp authority';
const API_PATH = '/api/v1/timestamp';

/**
 * Where to ask, in order. A URL whose path ends in /timestamp is the endpoint (signing configs
 * and trusted roots carry it whole). Any other is asked as given first, as cosign and gitsign
 * ask theirs (https://freetsa.org/tsr, http://timestamp.digicert.com); if nothing answers there
 * (404, 405) it is read as the base URL of a Sigstore TSA (https://timestamp.sigstore.dev,
 * Signet's $S/tsa) under which the API lives, as sigstore-js and earlier Signet read it.
 */
export function timestampEndpoints(url: string): [string] | [string, string] {
  const u = trimSlash(url);
  return /\/timestamp$/.test(u) ? [u] : [u, `${u}${API_PATH}`];
}

/** "Nothing here": the path is not the TSA's endpoint (a base URL asked as the endpoint). */
const NOT_HERE = [404, 405];

/**
 * An RFC 3161 timestamp from any TSA: a DER TimeStampReq (application/timestamp-query, with a
 * nonce and certReq) POSTed to it, a DER TimeStampResp back (RFC 3161 §3.4), as cosign and
 * sigstore-go ask. Sigstore's timestamp-authority (servers.md 4) and Signet's own take that
 * form too, besides the JSON one of sigstore-js; plain TSAs (OpenSSL's responder, freetsa,
 * DigiCert) take only that. The message imprint is the SHA-256 of the raw signature bytes
 * (client spec: timestamps cover the signature). Returns the DER TimeStampResp, which is what a
 * bundle carries (`rfc3161Timestamps[].signedTimestamp`).
 */
export async function fetchTimestamp(
  tsaUrl: string,
  signature: Uint8Array,
  opts: HttpOptions = {},
): Promise<Uint8Array> {
  const digest = createHash('sha256').update(signature).digest();
  const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`);
  const body = encodeTimestampRequest({ hashAlgorithm: 'sha256', digest, nonce, certReq: true });
  const [url, base] = timestampEndpoints(tsaUrl);
  const ask = (at: string, allow: number[] = []) =>
    send(
      {
        service: SERVICE,
        method: 'POST',
        url: at,
        body,
        contentType: 'application/timestamp-query',
        accept: 'application/timestamp-reply',
        allow,
      },
      opts,
    );
  let res = await ask(url, base ? NOT_HERE : []);
  let at = url;
  if (base && NOT_HERE.includes(res.status)) {
    const second = await ask(base, NOT_HERE);
    // Neither is a TSA: the error names the URL as given, and where else it looked.
    if (NOT_HERE.includes(second.status))
      throw new SignetError(
        'not-found',
        'SERVICE_ERROR',
        `${SERVICE} at ${url} answered HTTP ${res.status} (and at ${base} HTTP ${second.status}): no timestamp authority there`,
        { details: { status: res.status } },
      );
    [res, at] = [second, base];
  }
  checkResponse(res.body, digest, nonce, { service: SERVICE, url: at });
  return res.body;
}

/** The answer must be a granted TimeStampResp over our digest and nonce. */
function checkResponse(
  der: Uint8Array,
  digest: Uint8Array,
  nonce: bigint,
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
  if (ts.tstInfo.nonce !== nonce)
    throw badResponse(where, 'the timestamp does not echo the request nonce');
}
