import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalid, SignetError, quoteInput } from '../../core/errors.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { fromBase64 } from '../../core/encoding/base64.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { leafHash } from '../../core/merkle/hash.ts';
import {
  entryId,
  entryUuid,
  isNeverAdmittedV1,
  parseEntryRef,
  parseProposedEntryV1,
  verifierFromPem,
  keySearchKey,
  emailSearchKey,
  identitySearchKey,
} from '../../core/rekor/index.ts';
import { sendError } from '../http/errors.ts';
import { readBodiesOnlyAsJson } from '../http/json-body.ts';
import { admit } from './admission.ts';
import { hashKey, searchLog, searchOperator, type SearchOperator } from './search.ts';
import { notFound, type Shard, type Shards } from './shards.ts';
import type { VerifyQueue } from './verify-queue.ts';

/**
 * Rekor v1 REST API on Signet's log (rekor openapi.yaml; servers.md §2.1). Answers are
 * Rekor's: status codes, ETag/Location headers, `{code, message}` errors, LogEntry maps with
 * SETs and inclusion proofs whose checkpoints are signed afresh per response.
 */
export interface V1Context {
  shards: Shards;
  queue: VerifyQueue;
  bodyLimit: number;
  /**
   * Lookups only, no `POST /api/v1/log/entries`: the v1 API under a shard's base URL (what the
   * trusted root names), where clients look entries up (cosign finds a detached signature's
   * entry at the log's URL) but write only through the service URL of the signing config.
   */
  lookupsOnly?: boolean;
}

/** Rekor's JSON producer (go-openapi): compact JSON and a trailing newline. */
function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return sendEncoded(reply, status, Buffer.from(JSON.stringify(value)));
}

/** JSON already encoded (v1 entries: shards.ts v1Entry), with Rekor's trailing newline. */
function sendEncoded(reply: FastifyReply, status: number, json: Buffer): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(Buffer.concat([json, NEWLINE]));
}

const NEWLINE = Buffer.from('\n');
const COMMA = Buffer.from(',');

/** A JSON array of encoded values. */
function jsonArray(values: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('[')];
  for (const [i, v] of values.entries()) parts.push(...(i > 0 ? [COMMA, v] : [v]));
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}

function entriesPath(req: FastifyRequest): string {
  return req.url.split('?')[0]!.replace(/\/+$/, '');
}

const MAX_RETRIEVE = 10;

export async function registerV1Routes(app: FastifyInstance, ctx: V1Context): Promise<void> {
  // go-swagger reads application/json only, and says so (415) for any other type. The body is
  // read by the services' one strict reader (http/json-body.ts), which refuses a key given twice
  // in one object: go-swagger (encoding/json) would take the last value, but the entry Signet
  // logs is built from the values it read, and a body another reader (a proxy, a policy check,
  // a monitor replaying the request) reads with the first value has no one meaning to log;
  // rekor-tiles (Rekor v2, protojson) and Fulcio refuse it too.
  await app.register(async (scope) => {
    readBodiesOnlyAsJson(scope);
    if (!ctx.lookupsOnly) registerAdmission(scope, ctx);
    registerLookups(scope, ctx);
  });
}

function registerAdmission(app: FastifyInstance, ctx: V1Context): void {
  const { shards, queue } = ctx;
  app.post('/api/v1/log/entries', { bodyLimit: ctx.bodyLimit }, async (req, reply) => {
    const parsed = parseProposedEntryV1(req.body);
    // Only the parsed entry is needed from here on. The request would keep its JSON until the
    // answer is written (hundreds of ms with a thousand admissions in flight), so every
    // young-generation GC in between would copy it and then promote it.
    req.body = undefined;
    const shard = shards.current;
    const result = await admit(shard, parsed, queue, signatureField(parsed.kind));
    if (result.duplicate) {
      const id = entryId(shard.treeId, entryUuid(result.leafHash));
      // rekor: 409 with the existing entry's URL
      reply.header('location', `${entriesPath(req)}/${id}`);
      return sendError(
        reply,
        new SignetError(
          'conflict',
          'DUPLICATE_ENTRY',
          `an equivalent entry already exists in the transparency log with UUID ${id}`,
        ),
      );
    }
    // the admitted entry is what we just parsed (no read back); no attestation in this answer
    const entry = {
      index: result.index,
      leaf: parsed.body,
      leafHash: result.leafHash,
      integratedTime: result.integratedTime,
    };
    const { id, json } = await shard.v1Entry(entry, result.checkpoint, true);
    reply.header('etag', id).header('location', `${entriesPath(req)}/${id}`);
    return sendEncoded(reply, 201, json);
  });
}

/** The v1 reads: entries by UUID, index and content, the log's head and proofs, the search index. */
function registerLookups(app: FastifyInstance, ctx: V1Context): void {
  const { shards } = ctx;
  app.get('/api/v1/log/entries/:entryUUID', async (req, reply) => {
    const { entryUUID } = req.params as { entryUUID: string };
    const ref = parseEntryRef(entryUUID, 'entryUUID');
    const found = await shards.findByRef(ref);
    if (!found) throw notFound(`no entry with UUID ${entryUUID}`, 'entryUUID');
    const { json } = await found.shard.v1Entry(found.entry);
    return sendEncoded(reply, 200, json);
  });

  app.get('/api/v1/log/entries', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const index = parseIndex(q['logIndex'], 'logIndex');
    const loc = await shards.locate(index);
    if (!loc) throw notFound(`no entry at logIndex ${index}`, 'logIndex');
    const e = await loc.shard.engine.entry(loc.index);
    if (!e) throw notFound(`no entry at logIndex ${index}`, 'logIndex');
    const { json } = await loc.shard.v1Entry(e);
    return sendEncoded(reply, 200, json);
  });

  app.post('/api/v1/log/entries/retrieve', async (req, reply) => {
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw invalid('', 'must be a JSON object with entryUUIDs, logIndexes or entries');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b))
      if (!['entryUUIDs', 'logIndexes', 'entries'].includes(k))
        throw invalid(k, 'is not a known field');
    const uuids = optionalList(b['entryUUIDs'], 'entryUUIDs');
    const indexes = optionalList(b['logIndexes'], 'logIndexes');
    const proposed = optionalList(b['entries'], 'entries');
    const total = uuids.length + indexes.length + proposed.length;
    if (total === 0) throw invalid('', 'give at least one of entryUUIDs, logIndexes, entries');
    // Rekor: 422 Unprocessable Entity (SearchLogQuery's maxItems and its total limit)
    if (total > MAX_RETRIEVE)
      return sendError(
        reply,
        invalid('', `at most ${MAX_RETRIEVE} entries can be retrieved at once (got ${total})`),
        422,
      );
    const out: Buffer[] = [];
    for (const [i, u] of uuids.entries()) {
      if (typeof u !== 'string') throw invalid(`entryUUIDs[${i}]`, 'must be a string');
      const found = await shards.findByRef(parseEntryRef(u, `entryUUIDs[${i}]`));
      if (found) out.push((await found.shard.v1Entry(found.entry)).json);
    }
    for (const [i, n] of indexes.entries()) {
      const loc = await shards.locate(parseIndex(n, `logIndexes[${i}]`));
      const e = loc && (await loc.shard.engine.entry(loc.index));
      if (loc && e) out.push((await loc.shard.v1Entry(e)).json);
    }
    for (const [i, p] of proposed.entries()) {
      if (isNeverAdmittedV1(p)) continue; // its body cannot be in the log: no match
      let parsed;
      try {
        parsed = parseProposedEntryV1(p);
      } catch (e) {
        if (e instanceof SignetError && e.field !== undefined)
          throw new SignetError(e.kind, e.code, e.message.replace(`${e.field}: `, ''), {
            field: `entries[${i}].${e.field}`,
          });
        throw e;
      }
      const uuid = toHex(leafHash(parsed.body));
      const found = await shards.findByRef({ uuid });
      if (found) out.push((await found.shard.v1Entry(found.entry)).json);
    }
    return sendEncoded(reply, 200, jsonArray(out));
  });

  // LogInfo / InactiveShardLogInfo: fields in go-swagger's (alphabetical) order, as Rekor writes
  // them; inactiveShards left out when there are none (omitempty).
  app.get('/api/v1/log', async (_req, reply) => {
    const info = async (s: Shard) => {
      const h = await s.v1SignedHead();
      return {
        rootHash: toHex(h.rootHash),
        signedTreeHead: h.note,
        treeID: s.treeIdString,
        treeSize: h.size,
      };
    };
    const inactive = [];
    for (const s of shards.list) if (s !== shards.current) inactive.push(await info(s));
    const cur = await info(shards.current);
    return sendJson(reply, 200, inactive.length > 0 ? { inactiveShards: inactive, ...cur } : cur);
  });

  app.get('/api/v1/log/proof', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const shard = shardOf(shards, q['treeID']);
    const head = await shard.head();
    const first = q['firstSize'] === undefined ? 1 : parseIndex(q['firstSize'], 'firstSize');
    const last = parseIndex(q['lastSize'], 'lastSize');
    if (first < 1) throw invalid('firstSize', 'must be at least 1');
    if (last < first) throw invalid('lastSize', `must be at least firstSize (${first})`);
    if (last > head.size) throw invalid('lastSize', `is beyond the tree: its size is ${head.size}`);
    const hashes = await shard.engine.consistencyProof(first, last);
    const root = last === head.size ? head.rootHash : await shard.engine.rootAt(last);
    return sendJson(reply, 200, { hashes: hashes.map(toHex), rootHash: toHex(root) });
  });

  app.get('/api/v1/log/publicKey', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const shard = shardOf(shards, q['treeID']);
    return reply.code(200).type('application/x-pem-file').send(encodePem('PUBLIC KEY', shard.spki));
  });

  app.post('/api/v1/index/retrieve', async (req, reply) => {
    const keys = indexQuery(req.body);
    const ids = await searchEntryIds(shards, keys.keys, keys.operator);
    return sendJson(reply, 200, ids);
  });
}

function signatureField(kind: string): string {
  return kind === 'hashedrekord' ? 'spec.signature.content' : 'spec';
}

function optionalList(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(field, 'must be an array');
  return v;
}

function parseIndex(v: unknown, field: string): number {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(text))
    throw invalid(field, 'must be a non-negative integer');
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw invalid(field, 'is too large');
  return n;
}

function shardOf(shards: Shards, treeID: unknown): Shard {
  if (treeID === undefined || treeID === '') return shards.current;
  if (typeof treeID !== 'string' || !/^[1-9][0-9]{0,18}$/.test(treeID))
    throw invalid('treeID', 'must be a decimal tree ID');
  const s = shards.byTreeId(BigInt(treeID));
  if (!s) throw notFound(`no shard with tree ID ${treeID}`, 'treeID');
  return s;
}

/**
 * Rekor v1 SearchIndex `{email, subject, publicKey{format, content}, hash, operator}` turned into
 * Signet's search keys (core/rekor verifier.ts documents the key forms).
 */
function indexQuery(body: unknown): { keys: string[]; operator: SearchOperator } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('', 'must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (!['email', 'subject', 'publicKey', 'hash', 'operator'].includes(k))
      throw invalid(k, 'is not a known field');
  const keys: string[] = [];
  if (b['hash'] !== undefined) {
    if (typeof b['hash'] !== 'string') throw invalid('hash', 'must be a string');
    keys.push(hashKey(b['hash'], 'hash'));
  }
  if (b['email'] !== undefined) {
    if (typeof b['email'] !== 'string' || !b['email'].includes('@'))
      throw invalid('email', 'must be an email address');
    keys.push(emailSearchKey(b['email']));
  }
  if (b['subject'] !== undefined) keys.push(subjectKey(b['subject']));
  if (b['publicKey'] !== undefined) {
    const pk = b['publicKey'];
    if (typeof pk !== 'object' || pk === null || Array.isArray(pk))
      throw invalid('publicKey', 'must be an object {format, content}');
    const p = pk as Record<string, unknown>;
    for (const k of Object.keys(p))
      if (!['format', 'content', 'url'].includes(k))
        throw invalid(`publicKey.${k}`, 'is not a known field');
    if (p['format'] !== 'x509')
      throw new SignetError(
        'unsupported',
        'UNSUPPORTED_KEY_FORMAT',
        `key format ${quoteInput(p['format'])} is not supported (x509 is)`,
        { field: 'publicKey.format' },
      );
    if (p['url'] !== undefined)
      throw new SignetError('unsupported', 'UNSUPPORTED', 'fetching keys by URL is not supported', {
        field: 'publicKey.url',
      });
    if (typeof p['content'] !== 'string') throw invalid('publicKey.content', 'is required');
    const pem = fromBase64(p['content'], 'publicKey.content', false);
    keys.push(keySearchKey(verifierFromPem(pem, 'publicKey.content')));
  }
  if (keys.length === 0) throw invalid('', 'give at least one of hash, email, subject, publicKey');
  return { keys, operator: searchOperator(b['operator']) };
}

/**
 * SearchIndex `subject` (rekor-cli search --subject): a SAN as the certificate carries it. An
 * email matches whatever its case, as Rekor's lower-cased index does; other SANs match exactly
 * (Signet's identity keys keep their case).
 */
function subjectKey(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 512)
    throw invalid('subject', 'must be a SAN of 1 to 512 characters');
  return /^[^:/@\s]+@[^@\s]+$/.test(v) ? emailSearchKey(v) : identitySearchKey(v);
}

/** Entries matching the keys (all shards), as v1 entry IDs, in log order. */
async function searchEntryIds(
  shards: Shards,
  keys: string[],
  operator: SearchOperator,
): Promise<string[]> {
  const out: string[] = [];
  for (const s of shards.list) {
    for (const i of await searchLog(s.engine, keys, operator)) {
      const e = await s.engine.entry(i);
      if (e) out.push(entryId(s.treeId, entryUuid(e.leafHash)));
    }
  }
  return out;
}
