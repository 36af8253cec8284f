/**
 * A real `signet up` in its own OS process (bin/signet), for the runs that kill it (crash),
 * attack it (malformed) or load it (metrics): start it, wait for its banner, kill -9 it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const SIGNET_BIN = path.join(ROOT, 'bin', 'signet');
export const NODE = process.execPath;

/** A TCP port that was free a moment ago (the stack keeps one port across its restarts). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface StackProcess {
  proc: ChildProcess;
  /** Resolves with the base URL once the banner is printed; rejects if the process exits first. */
  up: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9, then wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean stop), then wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `signet up` on `port` with `dataDir` (and PostgreSQL when `databaseUrl`); output appends to `logFile`. */
export function startSignet(o: {
  port: number;
  dataDir: string;
  databaseUrl?: string;
  logFile: string;
  configFile?: string;
}): StackProcess {
  const args = ['up', '--port', String(o.port), '--data', o.dataDir];
  if (o.databaseUrl) args.push('--database', o.databaseUrl);
  if (o.configFile) args.push('--config', o.configFile);
  const out = fs.openSync(o.logFile, 'a');
  const proc = spawn(SIGNET_BIN, args, { stdio: ['ignore', 'pipe', out] });
  fs.closeSync(out);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.on('exit', (code, signal) => r({ code, signal })),
  );
  const up = new Promise<string>((resolve, reject) => {
    let text = '';
    proc.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /signet is up at (\S+)/.exec(text);
      if (m) resolve(m[1]!);
      fs.appendFileSync(o.logFile, d);
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`signet up exited (${signal ?? code}) before it was up; see ${o.logFile}`)),
    );
  });
  up.catch(() => undefined); // a kill during start is expected by the crash run
  return {
    proc,
    up,
    exited,
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** PostgreSQL for the runs (trust auth on 127.0.0.1:5432, as the tests use). */
export const PG_ADMIN_URL =
  process.env['SIGNET_BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh database, dropped by `drop`. */
export async function freshDatabase(tag: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `signet_${tag}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
