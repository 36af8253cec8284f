import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { MessageImprint, TimeStampReq, TimeStampResp } from '@peculiar/asn1-tsp';
import { SignetError } from '../../core/errors.ts';
import { badResponse, type HttpOptions, send } from './fetch.ts';
import { trimSlash } from './fulcio.ts';

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

const SHA256_OID = '2.16.840.1.101.3.4.2.1';
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
  const nonce = randomBytes(8);
  nonce[0]! &= 0x7f; // a positive INTEGER
  let body: Uint8Array | string;
  let contentType: string;
  if (opts.format === 'der') {
    const req = new TimeStampReq({
      version: 1,
      messageImprint: new MessageImprint({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256_OID }),
        hashedMessage: new OctetString(digest),
      }),
      nonce: new Uint8Array(nonce).buffer,
      certReq: true,
    });
    body = new Uint8Array(AsnConvert.serialize(req));
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
  checkGranted(res.body, { service: SERVICE, url });
  return res.body;
}

/** The response must parse as a TimeStampResp with status granted and a token. */
function checkGranted(der: Uint8Array, where: { service: string; url: string }): void {
  let resp: TimeStampResp;
  try {
    resp = AsnConvert.parse(der, TimeStampResp);
  } catch (e) {
    throw badResponse(where, 'the response is not a DER TimeStampResp', e);
  }
  const status = resp.status.status as number;
  if (status !== 0 && status !== 1) {
    const text = resp.status.statusString?.join('; ') ?? '';
    throw new SignetError(
      'unavailable',
      'TIMESTAMP_REJECTED',
      `${where.service} at ${where.url} refused the timestamp (PKIStatus ${status})${text ? `: ${text}` : ''}`,
    );
  }
  if (!resp.timeStampToken) throw badResponse(where, 'the TimeStampResp has no timeStampToken');
}
