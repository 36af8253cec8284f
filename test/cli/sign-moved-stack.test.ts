import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startStack } from '../../src/services/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { stackToken, tempStack } from '../helpers/stack.ts';

const quiet = { info() {}, warn() {}, error() {} };
const repo = path.resolve(import.meta.dirname, '../..');

/**
 * A signer keeps its signing config for 5 minutes after a refresh (SIGNER_CACHE_VALIDITY_MS).
 * A stack that moved (its services at other URLs) or was rebuilt (other logs) in those minutes
 * must not make signing fail on the services the kept config names: the server's current
 * config is asked for once, as after `signet rotate rekor` (sign-after-rotation.test.ts).
 */
function signer(dir: string, extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIGNET_TUF_CACHE: path.join(dir, 'tuf'),
    HOME: dir,
    ...extraEnv,
  };
  delete env.SIGNET_SERVER;
  const file = path.join(dir, 'a.txt');
  fs.writeFileSync(file, 'hello');
  // Not spawnSync: the stack answers from this process.
  return async (server: string | undefined, tokenFrom: string) => {
    const token = await stackToken(tokenFrom);
    const args = ['src/cli/main.ts', 'sign-blob', '--identity-token', token];
    if (server !== undefined) args.push('--server', server);
    return new Promise<{ status: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [...args, '--bundle', `${file}.sigstore.json`, file],
        { cwd: repo, encoding: 'utf8', env },
        (e, _out, stderr) => resolve({ status: e ? 1 : 0, stderr }),
      ),
    );
  };
}

/** A TCP forwarder on loopback to `target.port`: a name for the stack that stays while it moves. */
async function forwarder(target: { port: number }): Promise<{ url: string; close(): void }> {
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

test('sign-blob right after the stack moved to another address (signing config still cached) signs at the new one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-moved-'));
  const sign = signer(dir);
  const s1 = await tempStack();
  const target = { port: Number(new URL(s1.url).port) };
  const alias = await forwarder(target);
  try {
    try {
      const first = await sign(alias.url, s1.url);
      assert.equal(first.status, 0, first.stderr);
      assert.doesNotMatch(first.stderr, /the server's current one/);
    } finally {
      await s1.close();
    }
    // The same data folder on another port: the old services' URLs answer no more.
    const s2 = await startStack({ port: 0, host: '127.0.0.1', dataDir: s1.dataDir, log: quiet });
    target.port = Number(new URL(s2.url).port);
    try {
      const again = await sign(alias.url, s2.url);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stderr, /cannot reach the CA \(Fulcio\) at http:\/\/127\.0\.0\.1:/);
      assert.match(
        again.stderr,
        /\(with the signing config kept from a recent run\): signing with the server's current one\n/,
      );
      assert.match(again.stderr, new RegExp(`signing certificate issued by ${s2.url}/fulcio`));
      assert.match(again.stderr, new RegExp(`tlog entry created with index: \\d+ \\(${s2.url}/`));
    } finally {
      await s2.close();
    }
  } finally {
    alias.close();
  }
});

test('sign-blob against a stack rebuilt with new keys at the same URL (signing config still cached) fails saying the repository changed, not with a 404', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rebuilt-'));
  const sign = signer(dir);
  // The first stack's log was rotated: its signing config names shard 2, which a new stack lacks.
  const a = await tempStack();
  const port = Number(new URL(a.url).port);
  await a.close();
  const r = spawnSync(
    process.execPath,
    ['src/cli/main.ts', 'rotate', '--data', a.dataDir, 'rekor'],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const a2 = await startStack({ port, host: '127.0.0.1', dataDir: a.dataDir, log: quiet });
  try {
    const first = await sign(a2.url, a2.url);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /rekor\/shards\/2/);
  } finally {
    await a2.close();
  }
  const b = await startStack({
    port,
    host: '127.0.0.1',
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rebuilt-b-')),
    log: quiet,
  });
  try {
    const again = await sign(b.url, b.url);
    assert.equal(again.status, 1, again.stderr);
    // found at the certificate, whose CA the kept trusted root does not name, before the log
    assert.doesNotMatch(again.stderr, /HTTP 404/);
    assert.match(again.stderr, /^error: .*the repository no longer matches the root first seen/m);
  } finally {
    await b.close();
  }
});

test('a signing config just fetched from the server is not asked for again when a service it names is not there', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-nowhere-'));
  const sign = signer(dir);
  // The stack publishes a URL nothing answers at (a proxy not set up yet).
  const port = await freePort();
  const s = await startStack({
    port,
    host: '127.0.0.1',
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-nowhere-data-')),
    publicUrl: `http://127.0.0.1:${await freePort()}`,
    log: quiet,
  });
  try {
    const direct = `http://127.0.0.1:${port}`;
    const r = await sign(direct, direct);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: cannot reach the CA \(Fulcio\) at /m);
    assert.doesNotMatch(r.stderr, /the server's current one/);
  } finally {
    await s.close();
  }
});

test('sign-blob with the signing config kept from a recent run and the stack stopped: the failure is one line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-stopped-'));
  const sign = signer(dir);
  const s = await tempStack();
  // another stack only gives the identity token, which the client reads before the CA
  const tokens = await tempStack();
  try {
    try {
      const first = await sign(s.url, s.url);
      assert.equal(first.status, 0, first.stderr);
    } finally {
      await s.close();
    }
    const r = await sign(s.url, tokens.url);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(
      lines.filter((l) => /cannot reach|kept from a recent run/.test(l)),
      [lines.at(-1)],
      r.stderr,
    );
    assert.match(
      lines.at(-1)!,
      /^error: cannot reach the CA \(Fulcio\) at http:\/\/127\.0\.0\.1:\d+\/fulcio\/api\/v2\/signingCert: nothing is listening at /,
    );
  } finally {
    await tokens.close();
  }
});

test("sign-blob with the default TUF repository's signing config (no --server) right after the deployment moved signs at the new place: that repository is asked on every run", async () => {
  // The default repository here is a stack's (TUF_MIRROR and its root, as for a private
  // deployment; public-good is the same code with the shipped root), reached through a name
  // that stays while the stack moves. Its signing config is never kept from a run to the next,
  // so none can name where the services were (the --server case keeps it 5 minutes and asks
  // again on a failure: the tests above).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-moved-default-'));
  const s1 = await tempStack();
  const target = { port: Number(new URL(s1.url).port) };
  const alias = await forwarder(target);
  const rootFile = path.join(dir, 'root.json');
  fs.writeFileSync(rootFile, await (await fetch(`${alias.url}/tuf/1.root.json`)).text());
  const sign = signer(dir, { TUF_MIRROR: `${alias.url}/tuf`, TUF_ROOT_JSON: rootFile });
  try {
    try {
      const first = await sign(undefined, s1.url);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stderr, new RegExp(`signing certificate issued by ${s1.url}/fulcio`));
    } finally {
      await s1.close();
    }
    const s2 = await startStack({ port: 0, host: '127.0.0.1', dataDir: s1.dataDir, log: quiet });
    target.port = Number(new URL(s2.url).port);
    try {
      const again = await sign(undefined, s2.url);
      assert.equal(again.status, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /cannot reach/);
      assert.match(again.stderr, new RegExp(`signing certificate issued by ${s2.url}/fulcio`));
      assert.match(again.stderr, new RegExp(`tlog entry created with index: \\d+ \\(${s2.url}/`));
    } finally {
      await s2.close();
    }
  } finally {
    alias.close();
  }
});

test('sign-blob against a stack set up again with new keys at the same URLs (signing config still cached) fails naming the changed repository, and signs nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rekeyed-'));
  const sign = signer(dir);
  const port = await freePort();
  const at = (dataDir: string) => startStack({ port, host: '127.0.0.1', dataDir, log: quiet });
  const a = await at(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rekeyed-a-')));
  try {
    const first = await sign(a.url, a.url);
    assert.equal(first.status, 0, first.stderr);
  } finally {
    await a.close();
  }
  const bundle = path.join(dir, 'a.txt.sigstore.json');
  fs.rmSync(bundle);
  // Same address, same service URLs, new keys: within the 5 minutes the kept signing config
  // names services that all answer; only the certificate's CA tells.
  const b = await at(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rekeyed-b-')));
  try {
    const again = await sign(b.url, b.url);
    assert.equal(again.status, 1, again.stderr);
    assert.match(again.stderr, /^error: .*the repository no longer matches the root first seen/m);
    assert.equal(fs.existsSync(bundle), false, 'no bundle written');
    const log = (await (await fetch(`${b.url}/rekor/api/v1/log`)).json()) as { treeSize: number };
    assert.equal(log.treeSize, 0, 'nothing logged');
  } finally {
    await b.close();
  }
});

test('a fresh sign-blob whose CA answers with a certificate of another root (something in front of it) signs and logs nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-other-ca-'));
  const sign = signer(dir);
  const other = await tempStack();
  // The stack's own name is this proxy, which sends /fulcio/ to the other stack's CA.
  const port = await freePort();
  const stackPort = await freePort();
  const stack = await startStack({
    port: stackPort,
    host: '127.0.0.1',
    publicUrl: `http://127.0.0.1:${port}`,
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-other-ca-home-')),
    log: quiet,
  });
  const proxy = http.createServer((req, res) => {
    const to = req.url!.startsWith('/fulcio/') ? Number(new URL(other.url).port) : stackPort;
    const up = http.request(
      {
        host: '127.0.0.1',
        port: to,
        path: req.url,
        method: req.method,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  try {
    // The other CA takes its own provider's token; the signer asks the stack through the proxy.
    const r = await sign(`http://127.0.0.1:${port}`, other.url);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: the certificate from http://127\\.0\\.0\\.1:${port}/fulcio is not issued by a certificate authority of the trusted root of http://127\\.0\\.0\\.1:${port}$`,
        'm',
      ),
    );
    assert.equal(fs.existsSync(path.join(dir, 'a.txt.sigstore.json')), false, 'no bundle written');
    const tiles = await fetch(`http://127.0.0.1:${stackPort}/rekor/checkpoint`);
    assert.match(await tiles.text(), /^\S+\n0\n/, 'nothing logged');
  } finally {
    proxy.closeAllConnections();
    proxy.close();
    await stack.close();
    await other.close();
  }
});
