import type { FastifyInstance } from 'fastify';
import { invalid, SignetError } from '../../core/errors.ts';
import { fromBase64 } from '../../core/encoding/base64.ts';
import {
  parseCreateEntryRequestV2,
  publicKeyFromSpki,
  keySearchKey,
  identitySearchKey,
  issuerSearchKey,
} from '../../core/rekor/index.ts';
import { GRPC_GATEWAY_ROUTE, sendError } from '../http/errors.ts';
import { admit } from './admission.ts';
import { hashKey, searchLog, searchOperator } from './search.ts';
import type { Shard, Shards } from './shards.ts';
import type { VerifyQueue } from './verify-queue.ts';
import { allowedMethods } from '../http/allowed-methods.ts';
import { readBodiesAsJson } from '../http/json-body.ts';

/**
 * Rekor v2 write API (rekor-tiles; servers.md §3.1-3.2) and Signet's v2 search extension.
 *
 * POST /api/v2/log/entries → 201 TransparencyLogEntry (protojson), 409 + `x-log-index` on a
 * duplicate, 405 when the shard is frozen. rekor-tiles serves it through grpc-gateway, so its
 * refusals are google.rpc.Status JSON, `{code: <gRPC code>, message, details: []}`
 * (InvalidArgument 3 for 400, AlreadyExists 6 for 409, Unimplemented 12 for 405). Tile reads
 * are files in rekor-tiles (object storage), not gateway routes, and the search is Signet's
 * own: those answer in the project's shape.
 *
 * GET /api/v2/index?hash=&publicKey=&identity=&issuer=&operator= (Signet extension; Rekor v2
 * dropped search): `hash` = `[sha256:]<hex>`, `publicKey` = hex SHA-256 of the SPKI DER or the
 * base64 SPKI DER itself, `identity` = a certificate SAN (email, URI, ...) matched exactly, `issuer` = the OIDC
 * issuer of a Fulcio certificate. Answers `{"entries":[{"logIndex":"<n>","logId":{"keyId":..}}]}`
 * over all shards, in log order; indices are shard-local, as in Rekor v2.
 */
export interface V2Context {
  shards: Shards;
  queue: VerifyQueue;
  bodyLimit: number;
  /** The shard this mount writes to; default the current one (the service-root alias). */
  shard?: Shard;
}

export async function registerV2Routes(app: FastifyInstance, ctx: V2Context): Promise<void> {
  const { shards, queue } = ctx;

  const write = { bodyLimit: ctx.bodyLimit, config: GRPC_GATEWAY_ROUTE };
  // rekor-tiles' grpc-gateway reads a body of any media type as JSON (curl -d sends a form type);
  // Rekor v1, go-swagger, does not: the write route gets that parser in a scope of its own.
  await app.register(async (scope) => {
    readBodiesAsJson(scope);
    scope.post('/api/v2/log/entries', write, async (req, reply) => {
      const parsed = parseCreateEntryRequestV2(req.body);
      const shard = ctx.shard ?? shards.current;
      let result;
      try {
        result = await admit(shard, parsed, queue, 'hashedRekordRequestV002.signature.content');
      } catch (e) {
        // RFC 9110 §15.5.6: a 405 lists what the resource still allows (a frozen shard is read,
        // never written; an empty Allow says nothing is served at this path).
        if (e instanceof SignetError && e.code === 'LOG_FROZEN') {
          reply.header(
            'allow',
            allowedMethods(app, req.url)
              .filter((m) => m !== 'POST')
              .join(', '),
          );
          return sendError(reply, e, 405);
        }
        throw e;
      }
      if (result.duplicate) {
        reply.header('x-log-index', String(result.index));
        return sendError(
          reply,
          new SignetError(
            'conflict',
            'DUPLICATE_ENTRY',
            `an equivalent entry already exists in the log at index ${result.index}`,
          ),
        );
      }
      const entry = {
        index: result.index,
        leaf: parsed.body,
        leafHash: result.leafHash,
        integratedTime: result.integratedTime,
      };
      const tle = await shard.v2Entry(entry, result.checkpoint, parsed.kind, parsed.apiVersion);
      return reply.code(201).type('application/json').send(JSON.stringify(tle));
    });
  });

  if (ctx.shard) return; // search spans shards: served once, at the service root
  app.get('/api/v2/index', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const keys: string[] = [];
    for (const k of Object.keys(q))
      if (!['hash', 'publicKey', 'identity', 'issuer', 'operator'].includes(k))
        throw invalid(k, 'is not a known search parameter');
    const one = (name: string): string | undefined => {
      const v = q[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v === '') throw invalid(name, 'must be given once, non-empty');
      return v;
    };
    const hash = one('hash');
    if (hash) keys.push(hashKey(hash, 'hash'));
    const pk = one('publicKey');
    if (pk) {
      if (/^[0-9a-fA-F]{64}$/.test(pk)) keys.push(`key:${pk.toLowerCase()}`);
      else {
        const der = fromBase64(pk, 'publicKey');
        keys.push(keySearchKey(publicKeyFromSpki(der, 'publicKey')));
      }
    }
    const identity = one('identity');
    if (identity) keys.push(identitySearchKey(identity));
    const issuer = one('issuer');
    if (issuer) keys.push(issuerSearchKey(issuer));
    if (keys.length === 0)
      throw invalid('', 'give at least one of hash, publicKey, identity, issuer');
    const op = searchOperator(one('operator'));
    const entries: Array<{ logIndex: string; logId: { keyId: string } }> = [];
    for (const s of shards.list) {
      const keyId = Buffer.from(s.logId).toString('base64');
      for (const i of await searchLog(s.engine, keys, op))
        entries.push({ logIndex: String(i), logId: { keyId } });
    }
    return reply.code(200).type('application/json').send(JSON.stringify({ entries }));
  });
}
