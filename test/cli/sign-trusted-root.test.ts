// `signet trusted-root` against a running stack: prints or saves its trust documents.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { signet } from '../interop/sign-helpers.ts';

const stack = await tempStack();
after(() => stack.close());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-'));

test('prints the trusted root the stack serves, and saves it with --out', async () => {
  const served = await (await fetch(`${stack.url}/trusted_root.json`)).json();
  const r = await signet(['trusted-root', '--server', stack.url], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), served);
  const s = await signet(['trusted-root', '--server', stack.url, '--out', 'root.json'], {
    cwd: dir,
  });
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'root.json'), 'utf8')), served);
  // --out in a folder that does not exist: one line naming the flag and the folder
  const nowhere = await signet(
    ['trusted-root', '--server', stack.url, '--out', 'no/such/root.json'],
    { cwd: dir },
  );
  assert.equal(nowhere.status, 1);
  assert.equal(
    nowhere.stderr,
    `error: --out: cannot write no/such/root.json: folder ${path.join(fs.realpathSync(dir), 'no', 'such')} does not exist\n`,
  );
});

test('--signing-config prints the signing config', async () => {
  const served = await (await fetch(`${stack.url}/signing_config.json`)).json();
  const r = await signet(['trusted-root', '--signing-config', '--server', stack.url], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), served);
});

test('a server that is not a Signet stack: a clear error', async () => {
  const r = await signet(['trusted-root', '--server', `${stack.url}/nothing-here`], { cwd: dir });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: cannot fetch the initial root: the TUF repository at .*\/nothing-here\/tuf\/1\.root\.json answered HTTP 404/,
  );
});

test("what is printed is what the stack's TUF repository vouches for, not what a plain GET answers", async () => {
  // A server in front of the stack that answers /trusted_root.json and /signing_config.json
  // itself (an attacker on the way, or a stale cache), and passes everything else through.
  const forged = { mediaType: 'forged' };
  const front = http.createServer((req, res) => {
    if (req.url === '/trusted_root.json' || req.url === '/signing_config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(forged));
      return;
    }
    void fetch(`${stack.url}${req.url}`).then(async (r) => {
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const env = { SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-tuf-')) };
  try {
    const served = await (await fetch(`${stack.url}/trusted_root.json`)).json();
    const r = await signet(['trusted-root', '--server', url], { cwd: dir, env });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), served);
    assert.match(r.stderr, /^warning: trust on first use: no root given for \S+\/tuf, /);
    // With the root pinned, nothing is trusted on first use.
    const root = path.join(dir, '1.root.json');
    fs.writeFileSync(root, await (await fetch(`${stack.url}/tuf/1.root.json`)).text());
    const pinned = await signet(
      ['trusted-root', 'get', '--signing-config', '--server', url, '--tuf-root', root],
      { cwd: dir, env: { SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-')) } },
    );
    assert.equal(pinned.status, 0, pinned.stderr);
    assert.equal(pinned.stderr, '');
    assert.deepEqual(
      JSON.parse(pinned.stdout),
      await (await fetch(`${stack.url}/signing_config.json`)).json(),
    );
  } finally {
    front.close();
    front.closeAllConnections();
  }
});

test('a stack that cannot be reached: trusted-root fails in one line instead of exporting the trust cached before; --offline exports that copy', async () => {
  // A front for the stack that can be taken down while the stack runs on (other tests use it).
  const front = http.createServer((req, res) => {
    void fetch(`${stack.url}${req.url}`).then(async (r) => {
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const env = { SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-down-')) };
  const root = path.join(dir, 'down.1.root.json');
  fs.writeFileSync(root, await (await fetch(`${stack.url}/tuf/1.root.json`)).text());
  const get = (...args: string[]) =>
    signet(['trusted-root', '--server', url, '--tuf-root', root, ...args], { cwd: dir, env });
  try {
    const current = await get('--out', 'current.json');
    assert.equal(current.status, 0, current.stderr);
  } finally {
    front.close();
    front.closeAllConnections();
  }
  // The stack is down: its trust is cached, verified, but may be out of date by now (a
  // rotation); exported into an air gap it would be taken for the current trust.
  for (const out of [['--out', 'stale.json'], []]) {
    const r = await get(...out);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      new RegExp(
        `^error: cannot reach the TUF repository ${url}/tuf \\(nothing is listening at the repository; is the server running there\\?\\); the trust verified from it before \\(cached in \\S+\\) may be out of date, so it is not used: pass --offline to use that copy\n$`,
      ),
    );
  }
  assert.ok(!fs.existsSync(path.join(dir, 'stale.json')), 'nothing written');
  // Asked for, the cached copy is what it writes, and it says so.
  const offline = await get('--offline', '--out', 'cached.json');
  assert.equal(offline.status, 0, offline.stderr);
  assert.match(
    offline.stderr,
    new RegExp(
      `^Wrote trusted root to cached\\.json \\(offline: as verified from ${url} before and cached in \\S+\\)\n$`,
    ),
  );
  assert.equal(
    fs.readFileSync(path.join(dir, 'cached.json'), 'utf8'),
    fs.readFileSync(path.join(dir, 'current.json'), 'utf8'),
  );
});

test('trusted-root create rebuilds the stack’s trusted root from its PEM material (cosign’s spec flags)', async () => {
  const served = (await (await fetch(`${stack.url}/trusted_root.json`)).json()) as any;
  const pem = (label: string, b64: string) =>
    `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
  const chainFile = (name: string, ca: any) => {
    fs.writeFileSync(
      path.join(dir, name),
      ca.certChain.certificates.map((c: any) => pem('CERTIFICATE', c.rawBytes)).join(''),
    );
    return name;
  };
  const keyFile = (name: string, log: any) => {
    fs.writeFileSync(path.join(dir, name), pem('PUBLIC KEY', log.publicKey.rawBytes));
    return name;
  };
  const times = (v: any) => `start-time=${v.start}${v.end ? `,end-time=${v.end}` : ''}`;
  const args = ['trusted-root', 'create', '--out', 'created.json'];
  served.certificateAuthorities.forEach((ca: any, i: number) =>
    args.push(
      '--fulcio',
      `url=${ca.uri},certificate-chain=${chainFile(`ca${i}.pem`, ca)},${times(ca.validFor)}`,
    ),
  );
  served.timestampAuthorities.forEach((ca: any, i: number) =>
    args.push(
      '--tsa',
      `url=${ca.uri},certificate-chain=${chainFile(`tsa${i}.pem`, ca)},${times(ca.validFor)}`,
    ),
  );
  served.tlogs.forEach((l: any, i: number) =>
    args.push(
      '--rekor',
      `url=${l.baseUrl},public-key=${keyFile(`rekor${i}.pub`, l)},${times(l.publicKey.validFor)}${l.checkpointKeyId ? ',origin=log' : ''}`,
    ),
  );
  served.ctlogs.forEach((l: any, i: number) =>
    args.push(
      '--ctfe',
      `url=${l.baseUrl},public-key=${keyFile(`ct${i}.pub`, l)},${times(l.publicKey.validFor)}`,
    ),
  );
  const r = await signet(args, { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const created = JSON.parse(fs.readFileSync(path.join(dir, 'created.json'), 'utf8'));
  const strip = (root: any) =>
    JSON.parse(
      JSON.stringify(root, (k, v) => (k === 'operator' || k === 'subject' ? undefined : v)),
    );
  // operator and CA subject are informational labels the server chooses; all else must match
  assert.deepEqual(strip(created), strip(served));
  assert.equal(created.timestampAuthorities[0].subject.commonName, 'signet-tsa-1');

  const bad = await signet(
    [
      'trusted-root',
      'create',
      '--rekor',
      'url=http://x,public-key=ca0.pem,start-time=2020-01-01T00:00:00Z',
    ],
    { cwd: dir },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: --rekor public-key: is not a PEM public key/);
  const bad2 = await signet(
    ['trusted-root', 'create', '--ctfe', 'url=http://x,public-key=ct0.pub'],
    { cwd: dir },
  );
  assert.equal(bad2.status, 1);
  assert.match(bad2.stderr, /^error: --ctfe: "start-time" is required/);
});

/** The stack's trust material as files: CA/TSA chains and log keys, by position. */
async function material() {
  const served = (await (await fetch(`${stack.url}/trusted_root.json`)).json()) as any;
  const pem = (label: string, b64: string) =>
    `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
  const write = (name: string, text: string) => (
    fs.writeFileSync(path.join(dir, name), text),
    name
  );
  return {
    served,
    chain: (name: string, ca: any) =>
      write(
        name,
        ca.certChain.certificates.map((c: any) => pem('CERTIFICATE', c.rawBytes)).join(''),
      ),
    key: (name: string, log: any) => write(name, pem('PUBLIC KEY', log.publicKey.rawBytes)),
    write,
  };
}

test("trusted-root create: cosign's deprecated flags still work, each with cosign's warning, and make the same root", async () => {
  const m = await material();
  const ca = m.served.certificateAuthorities[0];
  const tsa = m.served.timestampAuthorities[0];
  const v1 = m.served.tlogs[0];
  const ct = m.served.ctlogs[0];
  const args = [
    'trusted-root',
    'create',
    '--out',
    'old.json',
    '--certificate-chain',
    m.chain('old-ca.pem', ca),
    '--fulcio-uri',
    ca.uri,
    '--timestamp-certificate-chain',
    m.chain('old-tsa.pem', tsa),
    '--timestamp-uri',
    tsa.uri,
    '--rekor-key',
    m.key('old-v1.pub', v1),
    '--rekor-url',
    v1.baseUrl,
    '--rekor-start-time',
    v1.publicKey.validFor.start,
    '--ctfe-key',
    m.key('old-ct.pub', ct),
    '--ctfe-url',
    ct.baseUrl,
    '--ctfe-start-time',
    ct.publicKey.validFor.start,
  ];
  const r = await signet(args, { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  for (const [flag, instead] of [
    ['certificate-chain', 'fulcio'],
    ['fulcio-uri', 'fulcio'],
    ['timestamp-certificate-chain', 'tsa'],
    ['timestamp-uri', 'tsa'],
    ['rekor-key', 'rekor'],
    ['rekor-url', 'rekor'],
    ['rekor-start-time', 'rekor'],
    ['ctfe-key', 'ctfe'],
    ['ctfe-url', 'ctfe'],
    ['ctfe-start-time', 'ctfe'],
  ])
    assert.match(
      r.stderr,
      new RegExp(`^Flag --${flag} has been deprecated, use --${instead} instead$`, 'm'),
    );
  const old = JSON.parse(fs.readFileSync(path.join(dir, 'old.json'), 'utf8'));
  assert.equal((fs.statSync(path.join(dir, 'old.json')).mode & 0o777).toString(8), '600');
  assert.deepEqual(old.certificateAuthorities[0].certChain, ca.certChain);
  assert.equal(old.certificateAuthorities[0].uri, ca.uri);
  assert.deepEqual(old.timestampAuthorities[0].certChain, tsa.certChain);
  assert.deepEqual(old.tlogs[0].logId, v1.logId);
  assert.equal(old.tlogs[0].baseUrl, v1.baseUrl);
  assert.deepEqual(old.tlogs[0].publicKey.validFor, v1.publicKey.validFor);
  assert.deepEqual(old.ctlogs[0].logId, ct.logId);
  // FILE,ORIGIN names a Rekor v2 log by its origin: the same log as the spec's origin key
  const o = 'rekor.example.test';
  const t = v1.publicKey.validFor.start;
  const spec = await signet(
    [
      'trusted-root',
      'create',
      '--rekor',
      `url=${v1.baseUrl},public-key=old-v1.pub,start-time=${t},origin=${o}`,
    ],
    { cwd: dir },
  );
  const dep = await signet(
    [
      'trusted-root',
      'create',
      '--rekor-key',
      `old-v1.pub,${o}`,
      '--rekor-url',
      v1.baseUrl,
      '--rekor-start-time',
      t,
    ],
    { cwd: dir },
  );
  assert.equal(dep.status, 0, dep.stderr);
  assert.ok(JSON.parse(dep.stdout).tlogs[0].checkpointKeyId);
  assert.deepEqual(JSON.parse(dep.stdout).tlogs, JSON.parse(spec.stdout).tlogs);
  // a deprecated log key without a start time starts at the Unix epoch, as cosign's
  const epoch = await signet(['trusted-root', 'create', '--ctfe-key', 'old-ct.pub'], { cwd: dir });
  assert.equal(epoch.status, 0, epoch.stderr);
  assert.equal(JSON.parse(epoch.stdout).ctlogs[0].publicKey.validFor.start, '1970-01-01T00:00:00Z');
});

test('trusted-root create: mixing a spec flag with the old flags of the same service, and bad old flags, are refused', async () => {
  const m = await material();
  const ca = m.chain('mix-ca.pem', m.served.certificateAuthorities[0]);
  const tsaLeafOnly = m.write(
    'tsa-leaf.pem',
    fs
      .readFileSync(
        path.join(dir, m.chain('tsa-all.pem', m.served.timestampAuthorities[0])),
        'utf8',
      )
      .split(/(?<=-----END CERTIFICATE-----\n)/)[0]!,
  );
  const cases: Array<[string[], RegExp]> = [
    [
      ['--fulcio', `url=http://ca,certificate-chain=${ca}`, '--certificate-chain', ca],
      /^error: --fulcio: cannot use --fulcio and old fulcio flags at the same time$/,
    ],
    [
      [
        '--rekor',
        'url=http://r,public-key=k,start-time=2020-01-01T00:00:00Z',
        '--rekor-url',
        'http://r',
      ],
      /cannot use --rekor and old rekor flags/,
    ],
    [
      [
        '--ctfe',
        'url=http://c,public-key=k,start-time=2020-01-01T00:00:00Z',
        '--ctfe-start-time',
        '2020-01-01T00:00:00Z',
      ],
      /cannot use --ctfe and old ctfe flags/,
    ],
    [
      ['--tsa', `url=http://t,certificate-chain=${ca}`, '--timestamp-uri', 'http://t'],
      /cannot use --tsa and old tsa flags/,
    ],
    [['--ctfe-key', 'mix-ca.pem'], /^error: --ctfe-key: is not a PEM public key/],
    [
      ['--rekor-key', 'x.pub', '--rekor-start-time', 'yesterday'],
      /^error: --rekor-start-time: "yesterday" is not an RFC 3339 time$/,
    ],
    // cosign parseTAPEMFile: leaf first, and the root after it
    [
      ['--timestamp-certificate-chain', ca],
      /--timestamp-certificate-chain: the first certificate must be the TSA's leaf, not a CA/,
    ],
    [
      ['--timestamp-certificate-chain', tsaLeafOnly],
      /--timestamp-certificate-chain: the chain must hold the leaf and at least its root/,
    ],
    [
      ['--tsa', `url=http://t,certificate-chain=${ca}`],
      /--tsa certificate-chain: the first certificate must be the TSA's leaf/,
    ],
    [
      ['--no-default-tsa', '--fulcio', `url=http://ca,certificate-chain=${ca}`],
      /^error: --no-default-tsa: only means something with --with-default-services/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await signet(['trusted-root', 'create', ...args], { cwd: dir });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.replace(/^Flag --.*\n/gm, '').trim(), re, args.join(' '));
  }
});

test('trusted-root create --with-default-services starts from the default TUF repository; --no-default-* leave parts out', async () => {
  const m = await material();
  const root = m.write(
    'stack-root.json',
    await (await fetch(`${stack.url}/tuf/1.root.json`)).text(),
  );
  // The default repository as cosign initialize / TUF_MIRROR set it: here, the stack's.
  const env = {
    TUF_MIRROR: `${stack.url}/tuf`,
    TUF_ROOT_JSON: path.join(dir, root),
    SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-tuf-')),
  };
  const all = await signet(['trusted-root', 'create', '--with-default-services'], {
    cwd: dir,
    env,
  });
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stderr, new RegExp(`Starting from the trusted root of ${stack.url}/tuf`));
  assert.deepEqual(JSON.parse(all.stdout), m.served);
  const extra = m.chain('extra-ca.pem', m.served.certificateAuthorities[0]);
  const some = await signet(
    [
      'trusted-root',
      'create',
      '--with-default-services',
      '--no-default-tsa',
      '--no-default-ctfe',
      '--fulcio',
      `url=https://ca.example.com,certificate-chain=${extra}`,
    ],
    { cwd: dir, env },
  );
  assert.equal(some.status, 0, some.stderr);
  const j = JSON.parse(some.stdout);
  assert.equal(j.timestampAuthorities.length, 0);
  assert.equal(j.ctlogs.length, 0);
  assert.deepEqual(j.tlogs, m.served.tlogs);
  assert.deepEqual(
    j.certificateAuthorities.map((c: any) => c.uri),
    [...m.served.certificateAuthorities.map((c: any) => c.uri), 'https://ca.example.com'],
    'the given CA is added to the default ones',
  );
});

test('trusted-root create --with-default-services says so when the repository does not answer and the shipped root is used', async () => {
  // TUF_MIRROR alone is a mirror of public-good, trusted with the shipped root; here one that
  // nothing listens on, as on a machine without a network.
  const env = {
    TUF_MIRROR: `http://127.0.0.1:${await freePort()}`,
    SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-tuf-')),
  };
  const r = await signet(['trusted-root', 'create', '--with-default-services'], { cwd: dir, env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^warning: the TUF repository http:\/\/127\.0\.0\.1:\d+ did not answer: starting from the trusted root shipped with Signet, which may be out of date\nStarting from the trusted root of \S+\/data\/public-good\/trusted_root\.json\n/,
  );
  assert.ok((JSON.parse(r.stdout) as { tlogs: unknown[] }).tlogs.length > 0);
});
