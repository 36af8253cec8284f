import type { FastifyInstance } from 'fastify';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { invalid } from '../../core/errors.ts';
import { sctToJson } from '../../core/ct/sct.ts';
import { readBodiesAsJson } from '../http/json-body.ts';
import type { CtLog } from './ctlog.ts';

/** Largest accepted add-chain body (a chain of a few certificates is a few KiB). */
const CHAIN_BODY_LIMIT = 512 * 1024;

function parseChainBody(body: unknown): Uint8Array[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('body', 'must be a JSON object {"chain": [base64 DER, ...]}');
  const chain = (body as Record<string, unknown>)['chain'];
  if (!Array.isArray(chain)) throw invalid('chain', 'must be an array of base64 DER certificates');
  return chain.map((c, i) => {
    if (typeof c !== 'string' || c.length === 0)
      throw invalid(`chain[${i}]`, 'must be a base64 DER certificate');
    return fromBase64(c, `chain[${i}]`, false);
  });
}

function intParam(q: Record<string, unknown>, name: string): number {
  const v = q[name];
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v))
    throw invalid(name, 'must be given as a non-negative integer query parameter');
  return Number(v);
}

/** RFC 6962 §4 API under `<prefix>/ct/v1/`. */
export async function registerCtRoutes(app: FastifyInstance, log: CtLog): Promise<void> {
  readBodiesAsJson(app);
  const post = { bodyLimit: CHAIN_BODY_LIMIT };
  app.post('/ct/v1/add-chain', post, async (req) =>
    sctToJson(await log.addChain(parseChainBody(req.body))),
  );
  app.post('/ct/v1/add-pre-chain', post, async (req) =>
    sctToJson(await log.addPreChain(parseChainBody(req.body))),
  );
  app.get('/ct/v1/get-sth', async () => {
    const sth = await log.sth();
    return {
      tree_size: sth.treeSize,
      timestamp: sth.timestamp,
      sha256_root_hash: toBase64(sth.rootHash),
      tree_head_signature: toBase64(sth.treeHeadSignature),
    };
  });
  app.get('/ct/v1/get-sth-consistency', async (req) => {
    const q = req.query as Record<string, unknown>;
    const proof = await log.consistency(intParam(q, 'first'), intParam(q, 'second'));
    return { consistency: proof.map(toBase64) };
  });
  app.get('/ct/v1/get-proof-by-hash', async (req) => {
    const q = req.query as Record<string, unknown>;
    const h = q['hash'];
    if (typeof h !== 'string') throw invalid('hash', 'must be given as a base64 query parameter');
    const hash = fromBase64(h, 'hash', false);
    if (hash.length !== 32) throw invalid('hash', 'must be a 32-byte SHA-256 leaf hash');
    const p = await log.proofByHash(hash, intParam(q, 'tree_size'));
    return { leaf_index: p.leafIndex, audit_path: p.auditPath.map(toBase64) };
  });
  app.get('/ct/v1/get-entries', async (req) => {
    const q = req.query as Record<string, unknown>;
    const entries = await log.entries(intParam(q, 'start'), intParam(q, 'end'));
    return {
      entries: entries.map((e) => ({
        leaf_input: toBase64(e.leaf),
        extra_data: toBase64(e.extra ?? new Uint8Array(0)),
      })),
    };
  });
  app.get('/ct/v1/get-roots', async () => ({
    certificates: log.roots().map((r) => toBase64(r.der)),
  }));
}
