/**
 * tlog-tiles reads of any LogEngine over HTTP (c2sp.org/tlog-tiles): `GET checkpoint`,
 * `GET tile/<L>/<N>[.p/<W>]` and `GET tile/entries/<N>[.p/<W>]`, relative to wherever the
 * plugin is mounted (Rekor mounts it at /rekor and /rekor/api/v2, the CT log may too).
 * Full tiles and bundles never change, so they are cacheable forever; the checkpoint and
 * partial tiles are cached briefly.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { SignetError } from '../../core/errors.ts';
import { parseTilePath, tilePath, entriesPath } from '../../core/tiles/paths.ts';
import type { LogEngine, SignedCheckpoint } from '../../log/types.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface TileRoutesOptions {
  /** Cache lifetime of the checkpoint, seconds (default 1). */
  checkpointMaxAge?: number;
  /** Cache lifetime of partial tiles and bundles, seconds (default 1). */
  partialMaxAge?: number;
  /** The checkpoint to serve instead of the engine's head (a witnessed, cosigned one). */
  checkpoint?: () => Promise<SignedCheckpoint>;
}

/** Registers the routes on `app` (call inside a prefixed plugin scope). */
async function registerTileRoutes(
  app: FastifyInstance,
  log: LogEngine,
  opts: TileRoutesOptions = {},
): Promise<void> {
  const short = (s: number): string => `public, max-age=${s}`;
  const cpCache = short(opts.checkpointMaxAge ?? 1);
  const partialCache = short(opts.partialMaxAge ?? 1);

  app.get('/checkpoint', async (_req, reply) => {
    const cp = await (opts.checkpoint ? opts.checkpoint() : log.checkpoint());
    return reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('cache-control', cpCache)
      .send(cp.note);
  });

  app.get('/tile/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const ref = parseTilePath(rest, 'path');
    const bytes =
      ref.kind === 'entries'
        ? await log.entryBundle(ref.index, ref.width)
        : await log.tile(ref.level, ref.index, ref.width);
    if (!bytes) {
      const name =
        ref.kind === 'entries'
          ? entriesPath(ref.index, ref.width)
          : tilePath(ref.level, ref.index, ref.width);
      throw new SignetError(
        'not-found',
        'TILE_NOT_FOUND',
        `${name} is not in the tree (beyond the latest checkpoint, or not yet full)`,
      );
    }
    return reply
      .header('content-type', 'application/octet-stream')
      .header('cache-control', ref.width === undefined ? IMMUTABLE : partialCache)
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

/** The same as a fastify plugin: `app.register(tileRoutes(log), { prefix: '/rekor' })`. */
export function tileRoutes(log: LogEngine, opts: TileRoutesOptions = {}): FastifyPluginAsync {
  return async (app) => registerTileRoutes(app, log, opts);
}
