import { test } from 'node:test';
import { SignetError } from '../../../src/core/errors.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { Witness, originHash } from '../../../src/services/witness/witness.ts';
import { startWitness } from '../../../src/services/witness/server.ts';
import { leafHash } from '../../../src/core/merkle/hash.ts';
import { consistencyProof, rootOf } from '../../../src/core/merkle/tree.ts';
import { signCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { formatVerifierKey, noteSigner } from '../../../src/core/note/keys.ts';
import { formatAddCheckpoint } from '../../../src/core/note/add-checkpoint.ts';
import { parseCosignerKey, verifyCosignatures } from '../../../src/core/note/cosignature.ts';
import { quiet } from '../context.ts';

const ORIGIN = 'log.example/test';
const logKey = noteSigner(ORIGIN, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const leaves = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag}${i}`)));
const main = leaves('entry', 40);
const fork = [...main.slice(0, 10), ...leaves('evil', 30)];

const note = (hashes: Uint8Array[], size: number, key = logKey) =>
  signCheckpoint(
    { origin: ORIGIN, size, rootHash: rootOf(hashes.slice(0, size)), extensions: [] },
    [key],
  );
const body = (hashes: Uint8Array[], old: number, size: number, key = logKey) =>
  formatAddCheckpoint({
    oldSize: old,
    proof: old === 0 ? [] : consistencyProof(hashes, old, size),
    checkpoint: note(hashes, size, key),
  });

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'signet-witness-'));
const witness = (dir: string) =>
  new Witness({
    name: 'w.example',
    key: generateKeyPairSync('ed25519').privateKey,
    logs: [{ origin: ORIGIN, verifiers: [logKey] }],
    stateFile: path.join(dir, 'state.json'),
  });

test('a witness cosigns consistent checkpoints, refuses a fork with 422 and a stale size with 409', async () => {
  const dir = tmp();
  const w = witness(dir);
  const first = await w.addCheckpoint(body(main, 0, 10));
  assert.equal(first.status, 200, first.body);
  assert.match(first.body, /^— w\.example [A-Za-z0-9+/=]+\n$/);
  // The line is a valid cosignature on the checkpoint.
  const cosigned = `${note(main, 10)}${first.body}`;
  assert.equal(verifyCosignatures(cosigned, [w.cosigner]).length, 1);

  const next = await w.addCheckpoint(body(main, 10, 25));
  assert.equal(next.status, 200, next.body);
  // The forked tree shares the first 10 entries: consistent with 10, but the witness is at 25.
  const stale = await w.addCheckpoint(body(fork, 10, 30));
  assert.equal(stale.status, 409);
  assert.equal(stale.contentType, 'text/x.tlog.size');
  assert.equal(stale.body, '25\n');
  // Told the right old size, the fork's proof cannot lead from the cosigned root: 422.
  const forged = formatAddCheckpoint({
    oldSize: 25,
    proof: consistencyProof(fork, 25, 30),
    checkpoint: note(fork, 30),
  });
  const refused = await w.addCheckpoint(forged);
  assert.equal(refused.status, 422);
  assert.match(refused.body, /not consistent with the checkpoint of size 25/);
  // The same size with another root is refused too.
  const sameSize = formatAddCheckpoint({ oldSize: 25, proof: [], checkpoint: note(fork, 25) });
  assert.equal((await w.addCheckpoint(sameSize)).status, 422);
  assert.equal(w.latest(ORIGIN)!.size, 25);
  // The state survives a restart (a new process reading the same file).
  const again = new Witness({
    name: 'w.example',
    key: generateKeyPairSync('ed25519').privateKey,
    logs: [{ origin: ORIGIN, verifiers: [logKey] }],
    stateFile: path.join(dir, 'state.json'),
  });
  assert.equal(again.latest(ORIGIN)!.size, 25);
  assert.equal((await again.addCheckpoint(body(main, 10, 30))).status, 409);
  assert.equal((await again.addCheckpoint(body(main, 25, 40))).status, 200);
});

test('a witness refuses unknown logs (404), bad signatures (403), malformed bodies and sizes (400)', async () => {
  const w = witness(tmp());
  const other = noteSigner('other.example/log', generateKeyPairSync('ed25519').privateKey);
  const unknown = formatAddCheckpoint({
    oldSize: 0,
    proof: [],
    checkpoint: signCheckpoint(
      { origin: 'other.example/log', size: 1, rootHash: main[0]!, extensions: [] },
      [other],
    ),
  });
  const a = await w.addCheckpoint(unknown);
  assert.equal(a.status, 404);
  assert.match(a.body, /does not witness the log "other\.example\/log"/);
  // Signed under the log's name by another key: no trusted signature.
  const impostor = noteSigner(
    ORIGIN,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  );
  const b = await w.addCheckpoint(body(main, 0, 5, impostor));
  assert.equal(b.status, 403);
  // A signature by the right key over different text.
  const good = note(main, 5);
  const tampered = good.replace('\n5\n', '\n6\n');
  const c = await w.addCheckpoint(`old 0\n\n${tampered}`);
  assert.equal(c.status, 403);
  assert.equal((await w.addCheckpoint('old 0\n\nnot a note')).status, 400);
  assert.equal((await w.addCheckpoint('hello')).status, 400);
  const d = await w.addCheckpoint(`old 9\n\n${good}`);
  assert.equal(d.status, 400);
  assert.match(d.body, /old size 9 is larger than the checkpoint size 5/);
  // A proof from size 0 must be empty.
  const e = await w.addCheckpoint(`old 0\n${Buffer.alloc(32).toString('base64')}\n\n${good}`);
  assert.equal(e.status, 422);
  assert.equal(w.latest(ORIGIN), undefined);
});

test('over HTTP: add-checkpoint and the monitor retrieval GET /<origin hash>/checkpoint', async () => {
  const dir = tmp();
  const w = await startWitness({
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    name: 'w.example',
    logs: [{ origin: ORIGIN, verifiers: [logKey] }],
    log: quiet,
  });
  try {
    const missing = await fetch(`${w.url}/${originHash(ORIGIN)}/checkpoint`);
    assert.equal(missing.status, 404);
    const r = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body: body(main, 0, 7) });
    assert.equal(r.status, 200);
    const line = await r.text();
    const key = parseCosignerKey(w.vkey);
    const served = await (await fetch(`${w.url}/${originHash(ORIGIN)}/checkpoint`)).text();
    assert.ok(served.startsWith(note(main, 7).split('\n\n')[0]!));
    assert.equal(verifyCosignatures(served, [key]).length, 1);
    assert.ok(served.endsWith(line));
    const conflict = await fetch(`${w.url}/add-checkpoint`, {
      method: 'POST',
      body: body(main, 0, 9),
    });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.headers.get('content-type'), 'text/x.tlog.size');
    assert.equal(await conflict.text(), '7\n');
  } finally {
    await w.close();
  }
});

/** The command line of `signet witness` for `dir` under `name`, witnessing the test log. */
const witnessArgs = (dir: string, name: string): string[] => [
  'src/cli/main.ts',
  'witness',
  '--port',
  '0',
  '--data',
  dir,
  '--name',
  name,
  '--log',
  formatVerifierKey(logKey),
];

/** `signet witness` in its own process on `dir`; resolves once it is up. */
const runWitness = (dir: string, name = 'w.example') =>
  new Promise<{ url: string; pid: number; kill: (signal?: NodeJS.Signals) => Promise<void> }>(
    (resolve, reject) => {
      const p = spawn(process.execPath, witnessArgs(dir, name), {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /up at (http:\/\/\S+)/.exec(out);
        if (m)
          resolve({
            url: m[1]!,
            pid: p.pid!,
            kill: (signal = 'SIGKILL') =>
              new Promise((r) => {
                p.once('exit', () => r());
                p.kill(signal);
              }),
          });
      });
      p.once('exit', (code) => reject(new Error(`witness exited ${code}: ${err}`)));
    },
  );

test('signet witness keeps what it cosigned through kill -9', async () => {
  const dir = tmp();
  const run = () => runWitness(dir);
  const first = await run();
  const ok = await fetch(`${first.url}/add-checkpoint`, {
    method: 'POST',
    body: body(main, 0, 12),
  });
  assert.equal(ok.status, 200);
  await first.kill();
  const second = await run();
  try {
    const stale = await fetch(`${second.url}/add-checkpoint`, {
      method: 'POST',
      body: body(main, 0, 20),
    });
    assert.equal(stale.status, 409);
    assert.equal(await stale.text(), '12\n');
    assert.equal(
      (await fetch(`${second.url}/add-checkpoint`, { method: 'POST', body: body(main, 12, 20) }))
        .status,
      200,
    );
  } finally {
    await second.kill();
  }
});

test('a data folder that cannot be made is refused at once, naming --data', async () => {
  // Node's recursive mkdirSync spins forever under /proc; the witness must not.
  await assert.rejects(
    startWitness({
      port: 0,
      host: '127.0.0.1',
      dataDir: '/proc/signet-no-such/witness',
      name: 'w.example',
      logs: [{ origin: ORIGIN, verifiers: [logKey] }],
      log: quiet,
    }),
    /^SignetError: --data: cannot use \/proc\/signet-no-such\/witness: /,
  );
});

test('a second signet witness on a data folder in use is refused, naming the one running', async () => {
  const dir = tmp();
  const first = await runWitness(dir);
  try {
    // Another name changes nothing: it would be the same key, cosigning from a stale state.
    for (const name of ['w.example', 'w2.example']) {
      const r = spawnSync(process.execPath, witnessArgs(dir, name), {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        new RegExp(
          `^error: the data folder ${dir} is in use by signet witness \\(pid ${first.pid}, since [^)]+\\); stop it first or use another data folder\n$`,
        ),
      );
    }
  } finally {
    await first.kill('SIGTERM');
  }
  // Stopped, it leaves the folder to the next one.
  const next = await runWitness(dir);
  await next.kill('SIGTERM');
});

test('signet witness --host: a mistyped or foreign address is refused naming --host and the value', () => {
  const dir = path.join(tmp(), 'data');
  for (const [host, want] of [
    ['999.1.1.1', /^error: --host: "999\.1\.1\.1" is not a valid address: [^\n]*\n$/],
    [
      '192.0.2.1',
      /^error: --host: 192\.0\.2\.1 is not an address of this machine; choose another host\n$/,
    ],
  ] as const) {
    const r = spawnSync(
      process.execPath,
      [
        'src/cli/main.ts',
        'witness',
        '--port',
        '0',
        '--host',
        host,
        '--data',
        dir,
        '--log',
        formatVerifierKey(logKey),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, want);
  }
  // The foreign address got as far as listen(); the folder is not left behind.
  assert.ok(!fs.existsSync(dir), 'nothing made for a start that failed');
});

test('signet witness on a port in use says so, naming --port, and creates nothing (no key, no folder)', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as net.AddressInfo).port;
  const fresh = path.join(tmp(), 'new', 'data');
  const existing = tmp(); // made by the operator, empty
  try {
    for (const dir of [fresh, existing]) {
      const args = witnessArgs(dir, 'w.example');
      args[args.indexOf('--port') + 1] = String(port);
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(
        r.stderr,
        `error: --port: 127.0.0.1 (port ${port}) is already in use by another process; stop it or choose another port\n`,
      );
    }
  } finally {
    await new Promise((r) => holder.close(r));
  }
  assert.ok(!fs.existsSync(path.dirname(fresh)), 'no folder made');
  assert.deepEqual(fs.readdirSync(existing), [], 'no key written');
  // With the port free, the same folder starts and makes its key then.
  const w = await runWitness(existing);
  await w.kill('SIGTERM');
  assert.ok(fs.existsSync(path.join(existing, 'keys', 'witness', 'ring.json')));
});

test('a witness keeps the name its key first signed as: a start under another --name is refused, naming the kept one', async () => {
  const dir = tmp();
  const start = (name: string) =>
    startWitness({
      port: 0,
      host: '127.0.0.1',
      dataDir: dir,
      name,
      logs: [{ origin: ORIGIN, verifiers: [logKey] }],
      log: quiet,
    });
  const first = await start('w.example/one');
  const vkey = first.vkey;
  await first.close();
  // A start that wrongly succeeds is closed, so the test fails rather than hangs.
  const e = await start('w.example/two').then(
    async (w) => {
      await w.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  assert.ok(e instanceof SignetError, `expected a refusal, got ${String(e)}`);
  assert.equal(e.field, '--name');
  assert.match(
    e.message,
    /signs as "w\.example\/one".*give --name w\.example\/one, or a new --data/,
  );
  // The same name starts as before, with the same vkey.
  const again = await start('w.example/one');
  assert.equal(again.vkey, vkey);
  await again.close();
});
