import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import { capText, sendError, unsupportedContentType } from '../http/errors.ts';
import { batchedPerTurn } from '../http/turn-batch.ts';
import {
  checkNonce,
  encodeRejection,
  failInfoOf,
  HASH_LENGTHS,
  parseTimestampRequest,
  requireHash,
  type TimestampRequest,
} from '../../core/rfc3161/index.ts';
import { HASH_OIDS, OID, type HashName } from '../../core/rfc3161/oids.ts';
import type { ServiceDefinition, ServiceModule, StackContext } from '../types.ts';
import { TsaAuthority, type TsaOptions } from './authority.ts';
import { parseJsonBody } from '../http/json-body.ts';

/** DER requests are ~100 bytes; JSON ones are capped like Sigstore's TSA (servers.md §4). */
const DER_BODY_LIMIT = 16 * 1024;
const JSON_BODY_LIMIT = 1024;

export interface TsaService extends ServiceModule {
  authority: TsaAuthority;
}

/** The `/tsa` service: RFC 3161 timestamps in Sigstore TSA's HTTP API (servers.md §4). */
export const tsaService: ServiceDefinition<'tsa'> = { parse: parseTsaConfig, create: createTsa };

export async function createTsa(ctx: StackContext, options: TsaOptions): Promise<TsaService> {
  const authority = TsaAuthority.open(ctx.dataDir, options);
  const url = `${ctx.baseUrl}/tsa/api/v1/timestamp`;
  return {
    name: 'tsa',
    prefix: '/tsa',
    authority,
    register: async (app) => {
      const metrics = ctx.metrics;
      await registerTsaRoutes(app, authority, metrics ? () => metrics.timestampIssued() : noop);
    },
    trust: () => ({
      timestampAuthorities: authority.versions.map((v) => ({
        subject: { organization: 'signet', commonName: `signet-tsa-${v.id}` },
        uri: url,
        certChain: { certificates: v.chain.map((c) => ({ rawBytes: toBase64(c) })) },
        // genTime has whole seconds: the window starts at the second the key came into use.
        validFor: {
          start: floorSecond(v.validFrom).toISOString(),
          ...(v.validTo ? { end: v.validTo.toISOString() } : {}),
        },
      })),
    }),
    signingConfig: () => ({
      tsaUrls: [
        {
          url,
          majorApiVersion: 1,
          validFor: { start: floorSecond(authority.versions[0]!.validFrom).toISOString() },
          operator: 'signet',
        },
      ],
    }),
    close: async () => {},
  };
}

function noop(): void {}

function floorSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** The `tsa` section as the authority's options. */
export function parseTsaConfig(config: Record<string, unknown>): TsaOptions {
  const o: TsaOptions = {};
  const p = config['acceptedPolicies'];
  if (p !== undefined) {
    if (
      !Array.isArray(p) ||
      p.length === 0 ||
      !p.every((x) => typeof x === 'string' && /^\d+(\.\d+)+$/.test(x))
    )
      throw invalid('tsa.acceptedPolicies', 'must be a non-empty list of dotted OIDs');
    o.acceptedPolicies = p as string[];
  }
  if (config['includeChain'] !== undefined) {
    if (typeof config['includeChain'] !== 'boolean')
      throw invalid('tsa.includeChain', 'must be true or false');
    o.includeChain = config['includeChain'];
  }
  return o;
}

async function registerTsaRoutes(
  app: FastifyInstance,
  authority: TsaAuthority,
  onIssued: () => void,
): Promise<void> {
  // DER requests as bytes, by the exact type (the hot path); any other type reaches the route
  // as bytes too, and its 415 says which two types to send.
  const rawBody = { parseAs: 'buffer', bodyLimit: DER_BODY_LIMIT } as const;
  const keep = (_req: unknown, body: unknown, done: (e: null, b: unknown) => void) =>
    done(null, body);
  app.addContentTypeParser('application/timestamp-query', rawBody, keep);
  app.addContentTypeParser('*', rawBody, keep);
  // Sigstore's JSON request form, with its own small cap.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if ((body as string).length > JSON_BODY_LIMIT)
      return done(
        new SignetError(
          'too-large',
          'BODY_TOO_LARGE',
          `a JSON timestamp request is larger than the limit of ${JSON_BODY_LIMIT} bytes`,
        ),
        undefined,
      );
    try {
      // The services' one JSON body reader (a key twice is refused, as everywhere).
      const value = parseJsonBody(body as string);
      const nonce = (value as { nonce?: unknown } | null)?.nonce;
      // Go's TSA reads the nonce into a big.Int; a 64-bit nonce written as a JSON number is
      // beyond a double's exact integers, so its digits are taken from the text (read above, so
      // JSON.parse meets valid JSON; a byte order mark parseJsonBody skipped is skipped here).
      const exact =
        typeof nonce === 'number' && !Number.isSafeInteger(nonce)
          ? JSON.parse((body as string).replace(/^\ufeff/, ''), nonceDigits)
          : value;
      done(null, exact);
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  // Timestamps asked for in one event-loop turn are signed together (http/turn-batch.ts).
  const issue = batchedPerTurn((r: { req: TimestampRequest; policyField: string }) =>
    authority.timestamp(r.req, r.policyField),
  );
  app.post(
    '/api/v1/timestamp',
    { bodyLimit: DER_BODY_LIMIT },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/json' && ct !== 'application/timestamp-query')
        return sendError(
          reply,
          unsupportedContentType(
            req.headers['content-type'],
            'application/timestamp-query (DER) or application/json',
          ),
        );
      let der: Uint8Array;
      if (ct === 'application/json')
        der = await issue({ req: parseJsonRequest(req.body), policyField: 'tsaPolicyOID' });
      else
        try {
          const parsed = parseTimestampRequest(asBytes(req.body));
          der = await issue({ req: parsed, policyField: 'TimeStampReq.reqPolicy' });
        } catch (e) {
          // RFC 3161 §2.4.2: a TimeStampReq the TSA refuses gets a TimeStampResp with status
          // rejection, a failInfo bit and the reason as statusString, which RFC 3161 clients
          // (openssl ts, cosign, sigstore-go) show; with HTTP 200, as they read a TimeStampResp
          // only from a 2xx. A body that is not a TimeStampReq at all stays a JSON 400, and so
          // does Sigstore's JSON form (sigstore-js shows the 400's message).
          const failInfo = failInfoOf(e);
          if (failInfo === undefined) throw e;
          return sendReply(reply, encodeRejection(failInfo, capText((e as Error).message)));
        }
      onIssued();
      return sendReply(reply, der);
    },
  );

  app.get('/api/v1/timestamp/certchain', async (_req, reply) =>
    reply.type('application/pem-certificate-chain').send(
      authority
        .currentChain()
        .map((c) => encodePem('CERTIFICATE', c))
        .join(''),
    ),
  );

  app.get('/ping', async (_req, reply) => reply.type('text/plain').send('pong'));
}

function sendReply(reply: FastifyReply, der: Uint8Array): FastifyReply {
  return reply
    .code(200)
    .type('application/timestamp-reply')
    .send(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
}

/** JSON.parse reviver: a numeric `nonce` as the digits written (V8 passes the source text). */
function nonceDigits(key: string, value: unknown, context?: { source?: string }): unknown {
  return key === 'nonce' && typeof value === 'number' ? context?.source : value;
}

function asBytes(body: unknown): Uint8Array {
  if (!(body instanceof Uint8Array) || body.length === 0)
    throw invalid('body', 'empty timestamp query');
  return body;
}

/**
 * Sigstore TSA's JSON request: `{artifactHash (base64 digest), hashAlgorithm, certificates?,
 * nonce?, tsaPolicyOID?}`.
 */
function parseJsonRequest(body: unknown): TimestampRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('body', 'must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (!['artifactHash', 'hashAlgorithm', 'certificates', 'nonce', 'tsaPolicyOID'].includes(k))
      throw invalid(k, 'unknown field');
  if (typeof b['hashAlgorithm'] !== 'string')
    throw invalid('hashAlgorithm', 'must be a string: sha256, sha384 or sha512');
  const name = b['hashAlgorithm'].toLowerCase().replace('-', '');
  // Own properties only: an inherited name (constructor, toString) is no hash.
  const oid = Object.hasOwn(HASH_OIDS, name) ? HASH_OIDS[name as HashName] : name;
  const hashAlgorithm: HashName = requireHash(name === 'sha1' ? OID.sha1 : oid, 'hashAlgorithm');
  if (typeof b['artifactHash'] !== 'string')
    throw invalid('artifactHash', 'must be the base64 digest of the data');
  const digest = fromBase64(b['artifactHash'], 'artifactHash');
  if (digest.length !== HASH_LENGTHS[hashAlgorithm])
    throw invalid(
      'artifactHash',
      `a ${hashAlgorithm} digest is ${HASH_LENGTHS[hashAlgorithm]} bytes, got ${digest.length}`,
    );
  const req: TimestampRequest = { hashAlgorithm, digest, certReq: false, hasExtensions: false };
  if (b['certificates'] !== undefined) {
    if (typeof b['certificates'] !== 'boolean')
      throw invalid('certificates', 'must be true or false');
    req.certReq = b['certificates'];
  }
  if (b['nonce'] !== undefined) {
    const n = b['nonce'];
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) req.nonce = BigInt(n);
    else if (typeof n === 'string' && /^(0|[1-9]\d{0,48})$/.test(n)) req.nonce = BigInt(n);
    else throw invalid('nonce', 'must be a non-negative integer (decimal, no leading zeros)');
    checkNonce(req.nonce, 'nonce');
  }
  if (b['tsaPolicyOID'] !== undefined) {
    if (typeof b['tsaPolicyOID'] !== 'string' || !/^\d+(\.\d+)+$/.test(b['tsaPolicyOID']))
      throw invalid('tsaPolicyOID', 'must be a dotted OID');
    req.policy = b['tsaPolicyOID'];
  }
  return req;
}
