import fs from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseTrustedRootJSON } from '../../bundle/trusted-root.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import { parseEntryRef } from '../../core/rekor/index.ts';
import { capText, statusOf } from '../http/errors.ts';
import { readBodiesOnlyAsJson } from '../http/json-body.ts';
import type { ServiceDefinition, ServiceModule, StackContext } from '../types.ts';
import { parseCheckRequest, VERIFY_BODY_LIMIT } from './check.ts';
import { ASSET_PREFIX, entryPage, errorPage, homePage, searchPage, STYLE_SOURCE } from './pages.ts';
import { parsePage, parseSearchTerm, type SearchQuery } from './query.ts';
import { notFound } from '../rekor/shards.ts';
import { LogView } from './view.ts';

/**
 * The explorer (DESIGN.md services: "the explorer at /"): the stack's own search.sigstore.dev,
 * for both Rekor APIs and every shard. Pages are rendered here (pages.ts); the browser scripts
 * in assets/ (plain ES modules, no build) check inclusion proofs and checkpoint signatures with
 * WebCrypto, send dropped bundles to the verifier, and follow the log's status.
 *
 * Routes: `GET /` (home, or `?q=&page=` search results), `GET /entry/<uuid or entry ID>`
 * (`?shard=N` when the same entry is in several shards), `GET /explorer/<asset>`, and JSON under
 * `/explorer/api/`: `search?q=&page=`, `entries/<ref>?shard=`, `status`, `POST verify`.
 */

const ASSETS: Record<string, string> = {
  'home.js': 'text/javascript; charset=utf-8',
  'entry.js': 'text/javascript; charset=utf-8',
  'check.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
};

/** Only this stack: scripts and styles from it, no inline script, no other origin at all. */
const CSP = `default-src 'none'; script-src 'self'; style-src ${STYLE_SOURCE}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;

const ENTRY_REF = 'must be a log index, a 64-hex-digit UUID or an 80-hex-digit entry ID';

function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  // nosniff as the onSend hook below sets it: a page for an error met before routing skips it.
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY') // frame-ancestors for browsers that predate it
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(page);
}

function shardParam(v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,5}$/.test(v))
    throw invalid('shard', 'must be a shard number');
  return Number(v);
}

/** The term as searched: trimmed, unless an identity was searched with its spaces too. */
function termOf(raw: string, q: SearchQuery): string {
  return q.kind === 'identity' && q.asGiven !== undefined ? raw : raw.trim();
}

function queryOf(req: FastifyRequest): Record<string, unknown> {
  return req.query as Record<string, unknown>;
}

/** One text value of a query parameter (a repeated one is a mistake, not an array). */
function oneParam(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(name, 'must be given once');
  return v;
}

/** The explorer has no config section. */
export const explorerService: ServiceDefinition<'explorer'> = {
  parse: () => undefined,
  create: (ctx) => createExplorerService(ctx),
};

export async function createExplorerService(ctx: StackContext): Promise<ServiceModule> {
  const rekor = ctx.services.rekor;
  if (!rekor) throw new Error('the explorer needs the rekor service');
  const tuf = ctx.services.tuf;
  // The CAs a signing certificate must chain to for the pages to call its identity the signer.
  const authorities = tuf
    ? parseTrustedRootJSON(tuf.trustedRoot.toString('utf8')).certificateAuthorities
    : undefined;
  const view = new LogView(rekor.shards, (s) => `${ctx.baseUrl}/rekor/shards/${s.id}`, authorities);
  const assetDir = new URL('./assets/', import.meta.url);
  const assets = new Map<string, Buffer>();
  for (const name of Object.keys(ASSETS))
    assets.set(name, fs.readFileSync(new URL(name, assetDir)));
  const check = ctx.checkBundle;

  return {
    name: 'explorer',
    prefix: '',
    errorPage: (reply, path, err, status) => {
      const entry = path === '/entry' || path.startsWith('/entry/');
      if (path !== '/' && !entry) return undefined;
      const ref = path.slice('/entry/'.length);
      const message =
        status === 414 && entry
          ? `entry: is ${ref.length} characters long: ${ENTRY_REF}`
          : status === 404
            ? `there is no page at ${capText(path, 200)}: an entry's page is /entry/<log index, UUID or entry ID>`
            : err.message;
      const title =
        status === 404
          ? 'No such page'
          : entry
            ? 'Not an entry reference'
            : 'Cannot open that address';
      return sendPage(reply, status, errorPage({ title, message }));
    },
    async register(app) {
      // The bundle check's body is JSON: another type is refused naming it (415).
      readBodiesOnlyAsJson(app);
      // Every answer, pages, scripts and JSON (which quotes search terms) alike, is only ever
      // read as the type it says it is.
      app.addHook('onSend', async (_req, reply) => {
        reply.header('x-content-type-options', 'nosniff');
      });
      app.get('/', async (req, reply) => {
        const q = queryOf(req);
        try {
          const term = oneParam(q, 'q');
          if (term === undefined) return sendPage(reply, 200, homePage(await view.status()));
          const query = parseSearchTerm(term);
          const page = parsePage(oneParam(q, 'page'));
          const r = await view.search(query, page);
          if (page > r.pages)
            throw invalid(
              'page',
              `is ${page}, but the results have ${r.pages} page${r.pages === 1 ? '' : 's'}`,
            );
          return sendPage(
            reply,
            200,
            searchPage({ term: termOf(term, query), kind: query.kind, page, ...r }),
          );
        } catch (e) {
          if (!(e instanceof SignetError)) throw e;
          return sendPage(
            reply,
            statusOf(e),
            errorPage({
              title: 'Cannot search for that',
              message: e.message,
              ...(typeof q.q === 'string' ? { term: q.q } : {}),
            }),
          );
        }
      });

      app.get('/entry/:ref', async (req, reply) => {
        const { ref } = req.params as { ref: string };
        try {
          const found = await findEntry(ref, shardParam(oneParam(queryOf(req), 'shard')));
          const others: number[] = [];
          for (const s of view.shards.list)
            if (s !== found.shard && (await s.entryByUuid(found.uuid))) others.push(s.id);
          return sendPage(
            reply,
            200,
            entryPage(view.entry(found.shard, found.entry), ctx.baseUrl, others),
          );
        } catch (e) {
          if (!(e instanceof SignetError)) throw e;
          return sendPage(
            reply,
            statusOf(e),
            errorPage({
              title: e.kind === 'not-found' ? 'No such entry' : 'Not an entry reference',
              message: e.message,
            }),
          );
        }
      });

      /** A UUID or entry ID, or a decimal global log index. */
      async function findEntry(ref: string, shard: number | undefined) {
        if (/^(0|[1-9][0-9]{0,14})$/.test(ref)) {
          const r = await view.atIndex(Number(ref));
          // A global index names one shard's entry; another shard must not be shown as asked for.
          if (shard !== undefined && shard !== r.shard.id)
            throw notFound(
              `log index ${ref} is in shard ${r.shard.id}, not in shard ${shard}`,
              'shard',
            );
          return { ...r, uuid: Buffer.from(r.entry.leafHash).toString('hex') };
        }
        let parsed;
        try {
          parsed = parseEntryRef(ref, 'entry');
        } catch {
          // The page takes a log index too; the parser, shared with Rekor's API, does not.
          throw invalid('entry', ENTRY_REF);
        }
        const r = await view.find(parsed, shard);
        return { ...r, uuid: parsed.uuid };
      }

      app.get(`${ASSET_PREFIX}/:name`, async (req, reply) => {
        const { name } = req.params as { name: string };
        const body = assets.get(name);
        if (!body) throw new SignetError('not-found', 'NOT_FOUND', `no explorer file ${name}`);
        return reply.type(ASSETS[name]!).header('cache-control', 'no-cache').send(body);
      });

      app.get(`${ASSET_PREFIX}/api/search`, async (req) => {
        const q = queryOf(req);
        const term = oneParam(q, 'q');
        if (term === undefined) throw invalid('q', 'is required: the search term');
        const query = parseSearchTerm(term);
        const page = parsePage(oneParam(q, 'page'));
        const r = await view.search(query, page);
        return { query: { term: termOf(term, query), kind: query.kind }, page, ...r };
      });

      app.get(`${ASSET_PREFIX}/api/entries/:ref`, async (req) => {
        const { ref } = req.params as { ref: string };
        const found = await findEntry(ref, shardParam(oneParam(queryOf(req), 'shard')));
        return {
          entry: view.summary(found.shard, found.entry),
          proof: await view.proof(found.shard, found.entry),
        };
      });

      app.get(`${ASSET_PREFIX}/api/status`, async (req) => {
        const n = oneParam(queryOf(req), 'latest');
        if (n !== undefined && !/^([1-9]|[1-4][0-9]|50)$/.test(n))
          throw invalid('latest', 'must be a number from 1 to 50');
        return view.status(n === undefined ? 10 : Number(n));
      });

      app.post(`${ASSET_PREFIX}/api/verify`, { bodyLimit: VERIFY_BODY_LIMIT }, async (req) => {
        if (!check)
          throw new SignetError(
            'unavailable',
            'NO_VERIFIER',
            'this stack was started without bundle checking (signet up provides it)',
          );
        if (!tuf)
          throw new SignetError(
            'unavailable',
            'NO_TRUSTED_ROOT',
            'this stack serves no trusted root',
          );
        const answer = await check(parseCheckRequest(req.body, new Uint8Array(tuf.trustedRoot)));
        // The verdict and notes may quote the bundle (up to 16 MiB): an answer, not an echo.
        return {
          ...answer,
          verdict: capText(answer.verdict),
          notes: answer.notes.map((n) => capText(n)),
        };
      });
    },
    async close() {},
  };
}
