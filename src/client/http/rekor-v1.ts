import { SignetError } from '../../core/errors.ts';
import {
  badResponse,
  type HttpOptions,
  sendJson,
  trimSlash,
} from '../../services/http/outbound.ts';
import type { TlogEntryProtoJson } from '../../core/rekor/entry-proto.ts';
import { parseJsonText } from '../../core/json.ts';

/**
 * Rekor v1 REST API `POST /api/v1/log/entries` (servers.md 2.1, 2.2) and the conversion of its
 * LogEntry into the bundle's `TransparencyLogEntry` (protobuf-specs sigstore_rekor.proto, JSON).
 */

/** hashedrekord 0.0.1 proposed entry: digest of the artifact, signature, PEM cert or key. */
export function hashedrekordV001(p: {
  digest: Uint8Array;
  algorithm?: 'sha256' | 'sha384' | 'sha512';
  signature: Uint8Array;
  /** PEM text of the signing certificate or public key. */
  verifierPem: string;
}): unknown {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: {
        hash: { algorithm: p.algorithm ?? 'sha256', value: Buffer.from(p.digest).toString('hex') },
      },
      signature: {
        content: Buffer.from(p.signature).toString('base64'),
        publicKey: { content: Buffer.from(p.verifierPem).toString('base64') },
      },
    },
  };
}

/** dsse 0.0.1 proposed entry: the envelope as a JSON string and the verifier PEMs. */
export function dsseV001(p: { envelopeJson: string; verifierPems: string[] }): unknown {
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: {
        envelope: p.envelopeJson,
        verifiers: p.verifierPems.map((v) => Buffer.from(v).toString('base64')),
      },
    },
  };
}

/** protobuf-specs `TransparencyLogEntry` in its JSON form (int64 as strings, bytes base64). */
export type TlogEntryJson = TlogEntryProtoJson;

const SERVICE = 'the transparency log (Rekor v1)';

export async function createEntryV1(
  baseUrl: string,
  proposedEntry: unknown,
  opts: HttpOptions = {},
): Promise<TlogEntryJson> {
  const url = `${trimSlash(baseUrl)}/api/v1/log/entries`;
  const res = await sendJson(
    { service: SERVICE, method: 'POST', url, json: proposedEntry, allow: [409] },
    opts,
  );
  let json = res.json;
  if (res.status === 409) {
    // Already logged: Rekor points at the existing entry; fetch it (as sigstore-js does).
    const loc = res.headers.get('location');
    if (!loc)
      throw new SignetError(
        'conflict',
        'DUPLICATE_ENTRY',
        `${SERVICE} at ${url}: the entry already exists and the log did not say where`,
      );
    const existing = new URL(loc, url).toString();
    json = (await sendJson({ service: SERVICE, method: 'GET', url: existing }, opts)).json;
  }
  return toTlogEntry(json, { service: SERVICE, url });
}

/** Convert a v1 `{uuid: LogEntry}` response into the bundle's TransparencyLogEntry. */
export function toTlogEntry(json: unknown, where: { service: string; url: string }): TlogEntryJson {
  const bad = (what: string) => badResponse(where, what);
  if (typeof json !== 'object' || json === null) throw bad('expected a {uuid: LogEntry} object');
  const values = Object.values(json as Record<string, unknown>);
  if (values.length !== 1) throw bad(`expected one log entry, got ${values.length}`);
  const e = values[0];
  if (!isRecord(e)) throw bad('the log entry is not a JSON object');
  const body = str(e.body, 'body', bad);
  const logID = str(e.logID, 'logID', bad);
  if (!/^[0-9a-f]{64}$/.test(logID)) throw bad('logID is not 64 hex characters');
  const logIndex = int(e.logIndex, 'logIndex', bad);
  const integratedTime = int(e.integratedTime, 'integratedTime', bad);
  let kind: { kind: string; version: string };
  try {
    const b = parseJsonText(Buffer.from(body, 'base64'), 'body') as Record<string, unknown>;
    if (typeof b.kind !== 'string' || typeof b.apiVersion !== 'string') throw new Error();
    kind = { kind: b.kind, version: b.apiVersion };
  } catch {
    throw bad('body is not a base64 JSON entry with kind and apiVersion');
  }
  const v = isRecord(e.verification) ? e.verification : {};
  const out: TlogEntryJson = {
    logIndex: String(logIndex),
    logId: { keyId: Buffer.from(logID, 'hex').toString('base64') },
    kindVersion: kind,
    integratedTime: String(integratedTime),
    canonicalizedBody: body,
  };
  if (typeof v.signedEntryTimestamp === 'string')
    out.inclusionPromise = { signedEntryTimestamp: v.signedEntryTimestamp };
  const p = v.inclusionProof;
  if (p !== undefined && p !== null) {
    if (!isRecord(p) || !Array.isArray(p.hashes))
      throw bad('verification.inclusionProof must be an object with a hashes array');
    out.inclusionProof = {
      logIndex: String(int(p.logIndex, 'inclusionProof.logIndex', bad)),
      rootHash: sha256Hex(p.rootHash, 'inclusionProof.rootHash', bad),
      treeSize: String(int(p.treeSize, 'inclusionProof.treeSize', bad)),
      hashes: p.hashes.map((h, i) => sha256Hex(h, `inclusionProof.hashes[${i}]`, bad)),
      checkpoint: { envelope: str(p.checkpoint, 'inclusionProof.checkpoint', bad) },
    };
  }
  if (!out.inclusionPromise && !out.inclusionProof)
    throw bad('the entry has neither a signedEntryTimestamp nor an inclusion proof');
  return out;
}

type Bad = (what: string) => SignetError;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A SHA-256 hash in hex (Rekor v1's proof encoding) as the bundle's base64; nothing partial. */
function sha256Hex(v: unknown, name: string, bad: Bad): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v))
    throw bad(`${name} must be 64 hex characters (a SHA-256 hash)`);
  return Buffer.from(v, 'hex').toString('base64');
}

function str(v: unknown, name: string, bad: Bad): string {
  if (typeof v !== 'string' || v === '') throw bad(`${name} must be a non-empty string`);
  return v;
}

function int(v: unknown, name: string, bad: Bad): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw bad(`${name} must be a non-negative integer`);
  return v;
}

/** The entry at `logIndex`, as the log serves it now (with its inclusion proof). */
export async function entryByIndexV1(
  baseUrl: string,
  logIndex: number,
  opts: HttpOptions = {},
): Promise<TlogEntryJson> {
  const url = `${trimSlash(baseUrl)}/api/v1/log/entries?logIndex=${logIndex}`;
  const res = await sendJson({ service: SERVICE, method: 'GET', url }, opts);
  return toTlogEntry(res.json, { service: SERVICE, url });
}

/** The entry that records `proposedEntry`, if the log has it (POST .../entries/retrieve). */
export async function findEntryV1(
  baseUrl: string,
  proposedEntry: unknown,
  opts: HttpOptions = {},
): Promise<TlogEntryJson> {
  const url = `${trimSlash(baseUrl)}/api/v1/log/entries/retrieve`;
  const res = await sendJson(
    { service: SERVICE, method: 'POST', url, json: { entries: [proposedEntry] } },
    opts,
  );
  const list = Array.isArray(res.json) ? res.json : [];
  if (list.length === 0)
    throw new SignetError('not-found', 'NOT_FOUND', `${SERVICE} at ${url} has no such entry`);
  return toTlogEntry(list[0], { service: SERVICE, url });
}

/** The most entries Rekor returns for one retrieve request (SearchLogQuery's maxItems). */
export const MAX_RETRIEVE_V1 = 10;

const SEARCH_SERVICE = 'the transparency log (Rekor v1 search)';

/**
 * The IDs of the entries the log's search index lists for `hash` (`sha256:<hex>`, the artifact
 * or DSSE payload digest) and, when given, signed by `verifierPem` (Rekor v1 `POST
 * /api/v1/index/retrieve` with operator "and"), all of them, as the log lists them; what is not
 * an entry UUID or ID is left out.
 */
export async function searchEntryIdsV1(
  baseUrl: string,
  query: { hash: string; verifierPem?: string },
  opts: HttpOptions = {},
): Promise<string[]> {
  const url = `${trimSlash(baseUrl)}/api/v1/index/retrieve`;
  const ids = await sendJson(
    {
      service: SEARCH_SERVICE,
      method: 'POST',
      url,
      json: {
        hash: query.hash,
        ...(query.verifierPem === undefined
          ? {}
          : {
              publicKey: {
                format: 'x509',
                content: Buffer.from(query.verifierPem).toString('base64'),
              },
              operator: 'and',
            }),
      },
    },
    opts,
  );
  if (!Array.isArray(ids.json))
    throw badResponse({ service: SEARCH_SERVICE, url }, 'expected an array of entry UUIDs');
  return ids.json.filter(
    (id): id is string => typeof id === 'string' && /^[0-9a-f]{64,80}$/.test(id),
  );
}

/**
 * The entries `ids` name (at most MAX_RETRIEVE_V1: one `POST /api/v1/log/entries/retrieve`);
 * one the log does not have is left out.
 */
export async function entriesByIdV1(
  baseUrl: string,
  ids: string[],
  opts: HttpOptions = {},
): Promise<TlogEntryJson[]> {
  if (ids.length === 0) return [];
  if (ids.length > MAX_RETRIEVE_V1)
    throw new SignetError(
      'internal',
      'INTERNAL',
      `at most ${MAX_RETRIEVE_V1} entries are retrieved at once (asked for ${ids.length})`,
    );
  const url = `${trimSlash(baseUrl)}/api/v1/log/entries/retrieve`;
  const res = await sendJson(
    { service: SEARCH_SERVICE, method: 'POST', url, json: { entryUUIDs: ids } },
    opts,
  );
  if (!Array.isArray(res.json))
    throw badResponse({ service: SEARCH_SERVICE, url }, 'expected an array of log entries');
  if (res.json.length > ids.length)
    throw badResponse(
      { service: SEARCH_SERVICE, url },
      `${res.json.length} entries for the ${ids.length} asked for`,
    );
  return res.json.map((e) => toTlogEntry(e, { service: SEARCH_SERVICE, url }));
}

/**
 * The first `limit` entries the log's search index lists (searchEntryIdsV1), fetched
 * MAX_RETRIEVE_V1 at a time. Candidates only: the caller checks each against what it expects.
 */
export async function searchEntriesV1(
  baseUrl: string,
  query: { hash: string; verifierPem?: string },
  opts: HttpOptions = {},
  limit = 10,
): Promise<TlogEntryJson[]> {
  const ids = (await searchEntryIdsV1(baseUrl, query, opts)).slice(0, limit);
  const out: TlogEntryJson[] = [];
  for (let i = 0; i < ids.length; i += MAX_RETRIEVE_V1)
    out.push(...(await entriesByIdV1(baseUrl, ids.slice(i, i + MAX_RETRIEVE_V1), opts)));
  return out;
}
