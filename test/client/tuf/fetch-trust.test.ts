import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { fetchTrust, SIGNER_CACHE_VALIDITY_MS } from '../../../src/client/tuf/index.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { tempStack } from '../../helpers/stack.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-client-'));
const text = async (url: string) => (await fetch(url)).text();

test('pinned root file: trust comes through TUF, no warning, same bytes as served plainly', async () => {
  const s = await tempStack();
  try {
    const rootFile = path.join(tmp(), 'root.json');
    fs.writeFileSync(rootFile, await text(`${s.url}/tuf/1.root.json`));
    const warnings: string[] = [];
    const t = await fetchTrust({
      serverUrl: s.url,
      rootFile,
      cacheDir: tmp(),
      warn: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 0, warnings.join('; '));
    assert.equal(t.offline, false);
    assert.equal(t.trustedRootText, await text(`${s.url}/trusted_root.json`));
    assert.equal(t.signingConfigText, await text(`${s.url}/signing_config.json`));
    assert.equal(
      (t.trustedRoot as { mediaType: string }).mediaType,
      'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    );
    assert.equal(
      (t.signingConfig as { mediaType: string }).mediaType,
      'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    );
    // tufUrl form gives the same.
    const t2 = await fetchTrust({
      tufUrl: `${s.url}/tuf/`,
      rootFile,
      cacheDir: tmp(),
      warn: (m) => warnings.push(m),
    });
    assert.equal(t2.trustedRootText, t.trustedRootText);
  } finally {
    await s.close();
  }
});

test('trust on first use warns once, then the cache works offline; no cache and no network fails clearly', async () => {
  const s = await tempStack();
  const cacheDir = tmp();
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  let first: Awaited<ReturnType<typeof fetchTrust>>;
  try {
    first = await fetchTrust({ serverUrl: s.url, cacheDir, warn });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /trust on first use/);
    assert.match(warnings[0]!, /sha256 [0-9a-f]{64}/);
    await fetchTrust({ serverUrl: s.url, cacheDir, warn });
    assert.equal(warnings.length, 1, 'the root is pinned now: no second warning');
  } finally {
    await s.close();
  }
  // The server is gone. Within the cache validity (a signer's) the verified cache answers
  // without asking.
  const cached = await fetchTrust({
    serverUrl: s.url,
    cacheDir,
    warn,
    timeoutMs: 2000,
    cacheValidityMs: SIGNER_CACHE_VALIDITY_MS,
  });
  assert.equal(cached.offline, false);
  assert.equal(cached.trustedRootText, first.trustedRootText);
  assert.equal(warnings.length, 1, 'no network was tried');
  // Without it (the default), the network is asked; unreachable, the verified cache answers,
  // with a warning.
  const off = await fetchTrust({ serverUrl: s.url, cacheDir, warn, timeoutMs: 2000 });
  assert.equal(off.offline, true);
  assert.equal(off.trustedRootText, first.trustedRootText);
  assert.equal(off.signingConfigText, first.signingConfigText);
  assert.match(warnings.at(-1)!, /cannot reach .*using the verified trust cached/);
  // No cache at all and no server: and none is left behind (the folders made for it go).
  const empty = tmp();
  await assert.rejects(
    fetchTrust({ serverUrl: s.url, cacheDir: empty, warn, timeoutMs: 2000 }),
    (e: unknown) =>
      e instanceof SignetError && e.code === 'TUF_UNREACHABLE' && /1\.root\.json/.test(e.message),
  );
  assert.deepEqual(fs.readdirSync(empty), []);
});

test('a tampered cache is not trusted offline', async () => {
  const s = await tempStack();
  const cacheDir = tmp();
  let cachePath: string;
  try {
    cachePath = (await fetchTrust({ serverUrl: s.url, cacheDir, warn: () => {} })).cachePath;
  } finally {
    await s.close();
  }
  // Change the cached trusted_root target: its hash no longer matches the signed targets.
  const targets = path.join(cachePath, 'targets');
  for (const f of fs.readdirSync(targets)) fs.appendFileSync(path.join(targets, f), ' ');
  // (within a signer's cache validity too: the cached targets are checked against their hashes)
  await assert.rejects(
    fetchTrust({
      serverUrl: s.url,
      cacheDir,
      warn: () => {},
      timeoutMs: 2000,
      cacheValidityMs: SIGNER_CACHE_VALIDITY_MS,
    }),
    (e: unknown) => e instanceof SignetError && e.code === 'TUF_CACHE_UNUSABLE',
  );
  await assert.rejects(
    fetchTrust({ serverUrl: s.url, cacheDir, warn: () => {}, timeoutMs: 2000 }),
    (e: unknown) => e instanceof SignetError && e.code === 'TUF_CACHE_UNUSABLE',
  );
});

test('bad inputs: no URL, bad URL, unreadable or non-root root file', async () => {
  await assert.rejects(fetchTrust({ cacheDir: tmp() }), /serverUrl: give the server URL/);
  await assert.rejects(
    fetchTrust({ serverUrl: 'not a url', cacheDir: tmp() }),
    /serverUrl: "not a url" is not a URL/,
  );
  await assert.rejects(
    fetchTrust({ tufUrl: 'ftp://x/tuf', cacheDir: tmp() }),
    /tufUrl: .* is not an http\(s\) URL/,
  );
  await assert.rejects(
    fetchTrust({
      serverUrl: 'http://127.0.0.1:9',
      rootFile: '/nonexistent/root.json',
      cacheDir: tmp(),
    }),
    /rootFile: \/nonexistent\/root\.json does not exist; check the path$/,
  );
  const f = path.join(tmp(), 'root.json');
  fs.writeFileSync(f, '{"signed":{"_type":"targets"}}');
  await assert.rejects(
    fetchTrust({ serverUrl: 'http://127.0.0.1:9', rootFile: f, cacheDir: tmp() }),
    /rootFile: is not TUF root metadata/,
  );
  fs.writeFileSync(f, 'nope');
  await assert.rejects(
    fetchTrust({ serverUrl: 'http://127.0.0.1:9', rootFile: f, cacheDir: tmp() }),
    /rootFile: is not valid JSON \(unexpected "o"\)$/,
  );
});

test('a root from another repository is refused (TUF verification error, not offline fallback)', async () => {
  const a = await tempStack();
  const b = await tempStack();
  try {
    const rootFile = path.join(tmp(), 'root.json');
    fs.writeFileSync(rootFile, await text(`${b.url}/tuf/1.root.json`));
    await assert.rejects(
      fetchTrust({ serverUrl: a.url, rootFile, cacheDir: tmp(), warn: () => {} }),
      (e: unknown) => e instanceof SignetError && e.code === 'TUF_VERIFICATION',
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('a server set up again at the same URL: the first-use pin refuses it with a hint; its new root file works', async () => {
  const a = await tempStack();
  const port = Number(new URL(a.url).port);
  const cacheDir = tmp();
  await fetchTrust({ serverUrl: a.url, cacheDir, warn: () => {} });
  await a.close();
  const { startStack } = await import('../../../src/services/stack.ts');
  const quiet = { info() {}, warn() {}, error() {} };
  const b = await startStack({ port, host: '127.0.0.1', dataDir: tmp(), log: quiet });
  try {
    await assert.rejects(
      fetchTrust({ serverUrl: b.url, cacheDir, warn: () => {} }),
      (e: unknown) =>
        e instanceof SignetError &&
        e.code === 'TUF_VERIFICATION' &&
        /remove that folder to trust it anew/.test(e.message),
    );
    const rootFile = path.join(tmp(), 'root.json');
    fs.writeFileSync(rootFile, await text(`${b.url}/tuf/1.root.json`));
    const t = await fetchTrust({ serverUrl: b.url, rootFile, cacheDir, warn: () => {} });
    assert.equal(t.trustedRootText, await text(`${b.url}/trusted_root.json`));
  } finally {
    await b.close();
  }
});

test('a --tuf-root file wins over an existing first-use cache: its own root is used, a mismatch says so', async () => {
  const a = await tempStack();
  const b = await tempStack();
  try {
    const cacheDir = tmp();
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    // first use of A pins A's 1.root.json
    await fetchTrust({ serverUrl: a.url, cacheDir, warn });
    assert.equal(warnings.length, 1);
    // B's root given for A: refused, naming the given file, even though a pin for A exists
    const bRoot = path.join(tmp(), 'b-root.json');
    fs.writeFileSync(bRoot, await text(`${b.url}/tuf/1.root.json`));
    await assert.rejects(
      fetchTrust({ serverUrl: a.url, rootFile: bRoot, cacheDir, warn }),
      (e: unknown) =>
        e instanceof SignetError &&
        e.code === 'TUF_VERIFICATION' &&
        e.message.includes(`does not match the root given in ${bRoot}`),
    );
    // A's own root given: accepted with no new trust-on-first-use warning
    const aRoot = path.join(tmp(), 'a-root.json');
    fs.writeFileSync(aRoot, await text(`${a.url}/tuf/1.root.json`));
    const t = await fetchTrust({ serverUrl: a.url, rootFile: aRoot, cacheDir, warn });
    assert.equal(t.trustedRootText, await text(`${a.url}/trusted_root.json`));
    assert.equal(warnings.length, 1);
    // and a mismatching root given later is still refused (the good run did not make it a pin)
    await assert.rejects(
      fetchTrust({ serverUrl: a.url, rootFile: bRoot, cacheDir, warn }),
      /does not match the root given/,
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test("a signer's recorded verification is used only for the same bytes, unexpired and recent", async () => {
  const s = await tempStack();
  const cacheDir = tmp();
  let first: Awaited<ReturnType<typeof fetchTrust>>;
  try {
    first = await fetchTrust({ serverUrl: s.url, cacheDir, warn: () => {} });
  } finally {
    await s.close();
  }
  const record = path.join(first.cachePath, 'verified.json');
  const saved = fs.readFileSync(record, 'utf8');
  const warnings: string[] = [];
  // The server is gone: the record answers (no warning, not offline) ...
  const signer = () =>
    fetchTrust({
      serverUrl: s.url,
      cacheDir,
      warn: (m) => warnings.push(m),
      timeoutMs: 2000,
      cacheValidityMs: SIGNER_CACHE_VALIDITY_MS,
    });
  const recorded = await signer();
  assert.equal(recorded.offline, false);
  assert.equal(recorded.signingConfigText, first.signingConfigText);
  assert.equal(warnings.length, 0);
  // ... but not once the metadata it recorded has expired, or the record is older than the
  // validity (or from the future): then the network is asked, and tuf-js verifies the cache.
  const r = JSON.parse(saved) as { at: string; expires: string };
  for (const changed of [
    { ...r, expires: new Date(Date.now() - 1000).toISOString() },
    { ...r, at: new Date(Date.now() - SIGNER_CACHE_VALIDITY_MS - 1000).toISOString() },
    { ...r, at: new Date(Date.now() + 60_000).toISOString() },
  ]) {
    fs.writeFileSync(record, JSON.stringify(changed));
    const t = await signer();
    assert.equal(t.offline, true, JSON.stringify(changed));
    assert.match(warnings.pop()!, /cannot reach .*using the verified trust cached/);
  }
  // Metadata changed after the record: not taken from the record, and tuf-js refuses it.
  fs.writeFileSync(record, saved);
  const timestamp = path.join(first.cachePath, 'metadata', 'timestamp.json');
  const ts = JSON.parse(fs.readFileSync(timestamp, 'utf8')) as { signed: { version: number } };
  ts.signed.version += 1;
  fs.writeFileSync(timestamp, JSON.stringify(ts));
  await assert.rejects(
    signer(),
    (e: unknown) => e instanceof SignetError && e.code === 'TUF_CACHE_UNUSABLE',
  );
});

/** A loopback proxy to `upstream` whose `answer` may reply to a request itself (true: it did). */
async function proxyTo(
  upstream: string,
  answer: (path: string, res: http.ServerResponse) => boolean,
): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    if (answer(req.url ?? '', res)) return;
    const up = http.request(`${upstream}${req.url}`, { method: req.method }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
  };
}

test('a refresh through a repository that fails: HTTP errors and oversized metadata fall back to the verified cache, with a warning', async () => {
  const s = await tempStack();
  // A proxy in front of the stack that can break timestamp.json (the file every refresh reads).
  let mode: 'pass' | '500' | 'huge' | 'no root' = 'pass';
  const proxy = await proxyTo(s.url, (path, res) => {
    if (path === '/tuf/1.root.json' && mode === 'no root') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not a TUF repository');
      return true;
    }
    if (path !== '/tuf/timestamp.json' || mode === 'pass' || mode === 'no root') return false;
    if (mode === '500') res.writeHead(500, { 'content-type': 'text/plain' }).end('storage is down');
    // More than tuf-js allows a timestamp (16 KiB), sent without a Content-Length.
    else
      res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.alloc(64 * 1024, 0x20));
    return true;
  });
  const url = proxy.url;
  const warnings: string[] = [];
  const refresh = () =>
    fetchTrust({ serverUrl: url, cacheDir, warn: (m) => warnings.push(m), timeoutMs: 5000 });
  const cacheDir = tmp();
  try {
    const first = await refresh();
    assert.equal(first.offline, false);
    warnings.length = 0; // trust on first use
    mode = '500';
    const failed = await refresh();
    assert.equal(failed.offline, true);
    assert.equal(failed.trustedRootText, first.trustedRootText);
    assert.match(warnings.pop()!, /answered HTTP 500: storage is down.*using the verified trust/);
    mode = 'huge';
    const huge = await refresh();
    assert.equal(huge.offline, true);
    assert.match(warnings.pop()!, /too large.*using the verified trust/);
    // Without a cache the same failures are errors.
    mode = '500';
    await assert.rejects(
      fetchTrust({ serverUrl: url, cacheDir: tmp(), warn: () => {}, timeoutMs: 5000 }),
      (e: unknown) =>
        e instanceof SignetError && e.code === 'TUF_UNREACHABLE' && /HTTP 500/.test(e.message),
    );
    // A first use where the root to pin is not served.
    mode = 'no root';
    await assert.rejects(
      fetchTrust({ serverUrl: url, cacheDir: tmp(), warn: () => {}, timeoutMs: 5000 }),
      (e: unknown) =>
        e instanceof SignetError &&
        e.code === 'TUF_UNREACHABLE' &&
        e.message ===
          `cannot fetch the initial root: the TUF repository at ${url}/tuf/1.root.json answered HTTP 404: not a TUF repository`,
    );
  } finally {
    proxy.close();
    await s.close();
  }
});

/** fetchTrust in a fresh process: whether it was offline, and whether it loaded tuf-js or undici. */
async function refreshInChild(
  serverUrl: string,
  cacheDir: string,
): Promise<{ offline: boolean; tufJs: boolean; undici: string[] }> {
  const module = new URL('../../../src/client/tuf/index.ts', import.meta.url).href;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       const { fetchTrust } = await import(${JSON.stringify(module)});
       const t = await fetchTrust({ serverUrl: ${JSON.stringify(serverUrl)}, cacheDir: ${JSON.stringify(cacheDir)}, warn: () => {} });
       console.log(JSON.stringify({
         offline: t.offline,
         tufJs: Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/tuf-js/')),
         undici: process.moduleLoadList.filter((m) => /undici/.test(m)),
       }));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(stdout) as { offline: boolean; tufJs: boolean; undici: string[] };
}

test('a verifier refresh of an unchanged repository asks it, and verifies with tuf-js only what changed', async () => {
  const s = await tempStack();
  // A proxy that can serve a newer root, or the timestamp with its version moved (no longer
  // what its signature covers).
  const t = JSON.parse(await text(`${s.url}/tuf/timestamp.json`)) as {
    signed: { version: number };
  };
  t.signed.version += 1;
  let mode: 'pass' | 'newer root' | 'other timestamp' = 'pass';
  const proxy = await proxyTo(s.url, (path, res) => {
    const body =
      path === '/tuf/2.root.json' && mode === 'newer root'
        ? '{"signed":{}}'
        : path === '/tuf/timestamp.json' && mode === 'other timestamp'
          ? JSON.stringify(t)
          : undefined;
    if (body === undefined) return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return true;
  });
  const url = proxy.url;
  const cacheDir = tmp();
  try {
    assert.deepEqual(await refreshInChild(url, cacheDir), {
      offline: false,
      tufJs: true,
      undici: [],
    });
    // Nothing changed: the two answers match the verified cache, tuf-js is not loaded.
    assert.deepEqual(await refreshInChild(url, cacheDir), {
      offline: false,
      tufJs: false,
      undici: [],
    });
    // The recorded metadata has expired: tuf-js decides.
    const record = path.join(
      (await fetchTrust({ serverUrl: url, cacheDir, warn: () => {} })).cachePath,
      'verified.json',
    );
    const saved = fs.readFileSync(record, 'utf8');
    fs.writeFileSync(
      record,
      JSON.stringify({ ...JSON.parse(saved), expires: new Date(Date.now() - 1000).toISOString() }),
    );
    assert.deepEqual(await refreshInChild(url, cacheDir), {
      offline: false,
      tufJs: true,
      undici: [],
    });
    // A newer root or another timestamp goes to tuf-js, which refuses these.
    for (const m of ['newer root', 'other timestamp'] as const) {
      mode = m;
      await assert.rejects(
        fetchTrust({ serverUrl: url, cacheDir, warn: () => {} }),
        (e: unknown) => e instanceof SignetError && e.code === 'TUF_VERIFICATION',
        m,
      );
    }
  } finally {
    proxy.close();
    await s.close();
  }
});

test('a verifier does not take a cached target that was edited, even with verified.json edited to match', async () => {
  const s = await tempStack();
  const other = await tempStack();
  const cacheDir = tmp();
  try {
    const first = await fetchTrust({ serverUrl: s.url, cacheDir, warn: () => {} });
    // Unchanged repository, untouched cache: the shortcut (no tuf-js) answers.
    assert.equal((await refreshInChild(s.url, cacheDir)).tufJs, false);
    // Someone who can write the cache puts another deployment's trusted root in it, and its
    // hash in the record, so every check that reads only the cache passes.
    const forged = await text(`${other.url}/trusted_root.json`);
    const file = path.join(first.cachePath, 'targets', 'trusted_root.json');
    assert.ok(fs.existsSync(file));
    fs.writeFileSync(file, forged);
    const record = path.join(first.cachePath, 'verified.json');
    const r = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      targets: Record<string, { sha256: string }>;
    };
    r.targets['trusted_root.json']!.sha256 = createHash('sha256').update(forged).digest('hex');
    fs.writeFileSync(record, JSON.stringify(r));
    // targets.json (signed, and named by hash from the served timestamp) says otherwise:
    // tuf-js verifies, fetches the real target again, and the forged one is gone.
    const again = await fetchTrust({ serverUrl: s.url, cacheDir, warn: () => {} });
    assert.equal(again.trustedRootText, first.trustedRootText);
    assert.notEqual(again.trustedRootText, forged);
    assert.equal(fs.readFileSync(file, 'utf8'), first.trustedRootText);
    // The same with targets.json itself edited (and recorded): refused as not what the served
    // timestamp names, and tuf-js then refuses its broken signature.
    const targetsFile = path.join(first.cachePath, 'metadata', 'targets.json');
    const targets = JSON.parse(fs.readFileSync(targetsFile, 'utf8')) as {
      signed: { targets: Record<string, { hashes: { sha256: string }; length: number }> };
    };
    targets.signed.targets['trusted_root.json'] = {
      hashes: { sha256: createHash('sha256').update(forged).digest('hex') },
      length: Buffer.byteLength(forged),
    };
    const targetsText = JSON.stringify(targets);
    fs.writeFileSync(targetsFile, targetsText);
    fs.writeFileSync(file, forged);
    const r2 = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      metadata: Record<string, string>;
      targets: Record<string, { sha256: string }>;
    };
    r2.metadata['targets.json'] = createHash('sha256').update(targetsText).digest('hex');
    r2.targets['trusted_root.json']!.sha256 = createHash('sha256').update(forged).digest('hex');
    fs.writeFileSync(record, JSON.stringify(r2));
    const third = await fetchTrust({ serverUrl: s.url, cacheDir, warn: () => {} }).then(
      (t) => t.trustedRootText,
      (e: unknown) => (e as Error).message,
    );
    assert.notEqual(third, forged);
  } finally {
    await s.close();
    await other.close();
  }
});

test('a refresh loads no undici: tuf-js downloads through the client HTTP layer', async () => {
  const s = await tempStack();
  try {
    assert.deepEqual((await refreshInChild(s.url, tmp())).undici, []);
  } finally {
    await s.close();
  }
});
