/**
 * `signet witness` over HTTP (c2sp.org/tlog-witness): `POST /add-checkpoint` and the monitor
 * retrieval `GET /<hex SHA-256 of origin>/checkpoint`, plus `GET /healthz`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { bindServer, createApp } from '../http/app.ts';
import { checkListenHost, listenFailed, type ListenSettings } from '../http/listen-host.ts';
import { KeyRing } from '../keyring.ts';
import type { Logger } from '../types.ts';
import { jsonLogger } from '../logger.ts';
import { Witness, type WitnessedLog } from './witness.ts';
import { formatCosignerKey } from '../../core/note/cosignature.ts';
import { describeSystemError, invalid, SignetError } from '../../core/errors.ts';
import { acquireDataLock, type DataLock } from '../data-lock.ts';
import { writeOnce } from '../write-once.ts';

/** An add-checkpoint body is a few proof lines and a note: 64 KiB is generous. */
const BODY_LIMIT = 64 * 1024;

export interface WitnessServerOptions {
  port: number;
  host: string;
  dataDir: string;
  name: string;
  logs: WitnessedLog[];
  log?: Logger;
  /** What messages call the host and the port (default `--host`, `--port`). */
  listenSettings?: ListenSettings;
}

export interface RunningWitness {
  url: string;
  witness: Witness;
  /** The witness's public key as a vkey (what logs and verifiers are given). */
  vkey: string;
  close(): Promise<void>;
}

/**
 * The name a witness signs as is half of its identity: its vkey (name+key hash+key) is what logs
 * and verifiers are given, and a cosignature under another name is one none of them accepts. So
 * the name a data folder's key first signed as is kept beside it, and a start under another name
 * is refused, naming the way out, rather than printing a new vkey every log then ignores.
 */
function keepName(dataDir: string, name: string): void {
  const file = path.join(dataDir, 'witness-name');
  const kept = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (kept === undefined) writeOnce(file, name);
  else if (kept !== name)
    throw invalid(
      '--name',
      `the witness in ${dataDir} signs as "${kept}", the name in its vkey that logs know it by: give --name ${kept}, or a new --data for a new witness`,
    );
}

export async function startWitness(opts: WitnessServerOptions): Promise<RunningWitness> {
  const log = opts.log ?? jsonLogger();
  const settings = opts.listenSettings ?? { host: '--host', port: '--port' };
  const host = await checkListenHost(opts.host, settings.host);
  // One witness per folder, before its key or state is read: the state is read once and
  // written whole, so a second process would not see the first's cosignatures and could cosign
  // a checkpoint inconsistent with them (two histories under one key).
  let lock: DataLock;
  try {
    lock = acquireDataLock(opts.dataDir, { mode: 'witness', what: 'signet witness' });
  } catch (e) {
    if (!(e instanceof SignetError && e.code === 'DATA_DIR')) throw e;
    throw invalid(
      '--data',
      `cannot use ${opts.dataDir}: ${describeSystemError(e.cause, opts.dataDir)}`,
      e,
    );
  }
  let server: http.Server;
  let url: string;
  try {
    ({ server, url } = await bindServer(opts.port, host));
  } catch (e) {
    // Bound before the key is made: a start that fails on its port or host creates nothing.
    lock.releaseAndUnmake();
    throw listenFailed(e, host, opts.port, settings);
  }
  // Read synchronously: the app below takes the server before any request is read.
  let witness: Witness;
  try {
    const ring = KeyRing.open(opts.dataDir, 'witness', { type: 'ed25519' });
    keepName(opts.dataDir, opts.name);
    witness = new Witness({
      name: opts.name,
      key: ring.current().key,
      logs: opts.logs,
      stateFile: path.join(opts.dataDir, 'witness-state.json'),
    });
  } catch (e) {
    server.close();
    lock.release();
    throw e;
  }
  const app = createApp({ bodyLimit: BODY_LIMIT }, () => server as http.Server);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/add-checkpoint', async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const a = await witness.addCheckpoint(new Uint8Array(body));
    if (a.status !== 200)
      log.warn('checkpoint refused', { status: a.status, reason: a.body.trim().slice(0, 300) });
    return reply.code(a.status).type(a.contentType).send(a.body);
  });
  app.get('/:hash/checkpoint', async (req, reply) => {
    const { hash } = req.params as { hash: string };
    const note = /^[0-9a-f]{64}$/.test(hash) ? witness.latestByHash(hash) : undefined;
    if (note === undefined)
      return reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .send('this witness has cosigned no checkpoint of that log\n');
    return reply.type('text/plain; charset=utf-8').send(note);
  });
  app.get('/healthz', async () => ({ status: 'ok', logs: witness.origins }));
  await app.ready();
  const vkey = formatCosignerKey(witness.cosigner);
  log.info('witness started', { url, name: opts.name, vkey, logs: witness.origins });
  return {
    url,
    witness,
    vkey,
    async close() {
      await app.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      lock.release();
    },
  };
}
