import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { freePort } from '../helpers/ports.ts';
import os from 'node:os';
import path from 'node:path';
import { encodePem } from '../../src/core/encoding/pem.ts';
import type { IssuingCa } from '../../src/core/x509/fulcio-profile.ts';
import { ca } from '../services/ctlog/fixtures.ts';
import { freshDatabase, PG_ADMIN_URL } from '../helpers/postgres.ts';

const bin = path.resolve('bin/signet');

function up(
  args: string[],
  cwd?: string,
): { child: ChildProcess; out: () => string; exited: Promise<number> } {
  const child = spawn(bin, ['up', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  return { child, out: () => out, exited };
}

/** `up` that has printed "signet is up at" (within 60 s). */
async function upAndReady(args: string[], cwd?: string): Promise<ReturnType<typeof up>> {
  const p = up(args, cwd);
  const deadline = Date.now() + 60_000;
  while (!/signet is up at/.test(p.out())) {
    assert.ok(Date.now() < deadline, p.out());
    await new Promise((r) => setTimeout(r, 50));
  }
  return p;
}

/**
 * Polls `paths` on `port` as fast as it can from the moment `signet up` is spawned until
 * /healthz says ok: every answer must be the "starting" 503 or the real one, and the process
 * must stay up. Returns how many "starting" answers were seen.
 */
async function pollDuringStart(data: string): Promise<{ starting: number; other: string[] }> {
  const port = await freePort();
  const p = up(['--port', String(port), '--data', data]);
  let exited = false;
  void p.exited.then(() => (exited = true));
  let starting = 0;
  const other: string[] = [];
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      assert.ok(!exited, `signet up exited while starting: ${p.out()}`);
      assert.ok(Date.now() < deadline, 'the stack did not become ready within 60 s');
      let ready = false;
      await Promise.all(
        ['/healthz', '/rekor/api/v1/log', '/fulcio/api/v2/configuration'].map(async (u) => {
          let r: Response;
          try {
            r = await fetch(`http://127.0.0.1:${port}${u}`);
          } catch {
            return; // not listening yet
          }
          const text = await r.text();
          if (r.status === 503 && JSON.parse(text).error === 'STARTING') {
            assert.equal(r.headers.get('retry-after'), '1');
            starting++;
          } else if (r.status === 200) {
            if (u === '/healthz') ready = true;
          } else other.push(`${u}: ${r.status} ${text}`);
        }),
      );
      if (ready) break;
    }
    // Still up and serving after the race.
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { status: string }).status, 'ready');
  } finally {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.out());
  }
  return { starting, other };
}

test('requests while signet up starts get a 503 "starting", never a crash (fresh and existing data folder)', async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-start-'));
  for (const run of ['fresh', 'existing']) {
    const { starting, other } = await pollDuringStart(data);
    assert.deepEqual(other, [], `${run}: unexpected answers while starting`);
    assert.ok(starting > 0, `${run}: the start was never observed (no 503 answers)`);
  }
});

test('a second signet up on a data folder in use is refused naming the process; it is free again after a stop', async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-lock-'));
  const first = await upAndReady(['--port', '0', '--data', data]);
  try {
    // The server runs with the V8 flags of bin/node-options, the ones `npm run bench` measures
    // the log with (the sh script execs Node, so the pid is Node's).
    const argv = fs.readFileSync(`/proc/${first.child.pid}/cmdline`, 'utf8').split('\0');
    for (const flag of fs.readFileSync('bin/node-options', 'utf8').trim().split(/\s+/))
      assert.ok(argv.includes(flag), `signet up runs without ${flag}: ${argv.join(' ')}`);
    const second = spawnSync(bin, ['up', '--port', '0', '--data', data], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(second.status, 1, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`data folder ${data} is in use by signet up \\(pid ${first.child.pid}, since `),
    );
    const rotate = spawnSync(bin, ['rotate', '--data', data, 'rekor'], { encoding: 'utf8' });
    assert.equal(rotate.status, 1);
    assert.match(rotate.stderr, new RegExp(`in use by signet up \\(pid ${first.child.pid}`));
    assert.match(rotate.stderr, /stop it first/);
  } finally {
    first.child.kill('SIGKILL'); // no clean release: the next start must see a stale entry
    await first.exited;
  }
  const again = await upAndReady(['--port', '0', '--data', data]);
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0);
});

test('a killed signet up that its parent has not reaped (a zombie) does not hold the data folder', async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-zombie-'));
  const logFile = path.join(data, 'first.log');
  // The shell becomes `sleep`, which never waits for the stack it started: killed, it stays Z.
  const parent = spawn(
    'sh',
    ['-c', `"${bin}" up --port 0 --data "${data}" >"${logFile}" 2>&1 & echo $!; exec sleep 120`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const pid = Number(
      await new Promise<string>((resolve) =>
        parent.stdout.once('data', (d: Buffer) => resolve(d.toString())),
      ),
    );
    const deadline = Date.now() + 60_000;
    while (
      !/signet is up at/.test(fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '')
    ) {
      assert.ok(Date.now() < deadline, 'the first stack did not come up');
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(pid, 'SIGKILL');
    const state = () => {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    };
    while (state() !== 'Z') {
      assert.ok(Date.now() < deadline, 'the killed stack did not become a zombie');
      await new Promise((r) => setTimeout(r, 20));
    }
    const again = await upAndReady(['--port', '0', '--data', data]);
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0);
  } finally {
    parent.kill('SIGKILL');
  }
});

test('--data on an impossible or unwritable path fails at once with a message', () => {
  const ro = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ro-'));
  fs.chmodSync(ro, 0o500);
  const cases = ['/proc/signet-data', path.join(ro, 'data')];
  if (process.getuid?.() === 0) cases.pop(); // root writes through mode bits
  for (const dir of cases) {
    const t = Date.now();
    const r = spawnSync(bin, ['up', '--port', '0', '--data', dir], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1, `${dir}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`cannot use ${dir} as the data folder: E[A-Z]+`));
    assert.ok(Date.now() - t < 10_000);
  }
});

test('a data folder (or its keys folder) every user may write to, or that another user owns, is refused: they could replace its keys', () => {
  const up = (dir: string) =>
    spawnSync(bin, ['up', '--port', '0', '--data', dir], { encoding: 'utf8', timeout: 20_000 });
  const open = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-open-data-'));
  fs.chmodSync(open, 0o777);
  let r = up(open);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(
    r.stderr,
    `error: cannot use the data folder: every user may write to ${open} (mode 0777), so anyone could replace the keys: chmod o-w ${open}\n`,
  );
  assert.deepEqual(fs.readdirSync(open), [], 'nothing is made in it');
  fs.chmodSync(open, 0o755);
  fs.mkdirSync(path.join(open, 'keys'), { mode: 0o777 });
  fs.chmodSync(path.join(open, 'keys'), 0o777);
  r = up(open);
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: cannot use the data folder: every user may write to \S+\/keys \(mode 0777\)/,
  );
  assert.deepEqual(fs.readdirSync(open), ['keys']);
  if (process.getuid?.() === 0) {
    const theirs = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-their-data-'));
    fs.chownSync(theirs, 65534, 65534);
    r = up(theirs);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: cannot use the data folder: \S+ belongs to another user \(uid 65534\), who could replace the keys in it$/m,
    );
  }
});

test('a mistyped or foreign --host (flag, SIGNET_HOST or config host) is refused naming the setting and the value, before the data folder is made', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-host-'));
  const data = path.join(dir, 'data');
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(bin, ['up', '--port', '0', '--data', data, ...args], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, ...env },
    });
  const notValid = (setting: string, host: string) =>
    new RegExp(`^error: ${setting}: "${host.replace(/[.[\]]/g, '\\$&')}" is not a valid address: `);
  const publicTest = ['--insecure-public-test-identities', '--public-url', 'http://x.example'];
  // Not the exposure refusal (it is no address at all), with or without the flag that allows it.
  for (const extra of [[], publicTest]) {
    const r = run(['--host', '999.1.1.1', ...extra]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, notValid('--host', '999.1.1.1'));
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  }
  const name = run(['--host', 'no-such-host.invalid', ...publicTest]);
  assert.match(
    name.stderr,
    /^error: --host: "no-such-host\.invalid" is not a valid address: it is not an IP address, and no host of that name is found \(DNS\)/,
  );
  assert.match(run(['--host', '[::1'], {}).stderr, notValid('--host', '[::1'));
  assert.match(run([], { SIGNET_HOST: '999.1.1.1' }).stderr, notValid('SIGNET_HOST', '999.1.1.1'));
  const config = path.join(dir, 'signet.yaml');
  fs.writeFileSync(config, 'host: 999.1.1.1\n');
  assert.match(run(['--config', config]).stderr, notValid(`${config}: host`, '999.1.1.1'));
  assert.ok(!fs.existsSync(data), 'nothing written for a bad address');
  // An address, but none of this machine's (TEST-NET-1, RFC 5737): named the same, before the
  // exposure refusal (it is not loopback) or the advice about --public-url, with or without
  // the flag that allows an exposed stack.
  for (const extra of [[], ['--insecure-public-test-identities'], publicTest]) {
    const foreign = run(['--host', '192.0.2.1', ...extra]);
    assert.equal(foreign.status, 1, foreign.stderr);
    assert.equal(
      foreign.stderr,
      'error: --host: 192.0.2.1 is not an address of this machine; choose another host\n',
    );
    assert.ok(!fs.existsSync(data), 'nothing written for a foreign address');
  }
  // A port in use is the port's fault.
  const busy = await upAndReady(['--port', '0', '--data', path.join(dir, 'busy')]);
  try {
    const port = /up at http:\/\/127\.0\.0\.1:(\d+)/.exec(busy.out())![1]!;
    const taken = spawnSync(bin, ['up', '--port', port, '--data', path.join(dir, 'other')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.match(
      taken.stderr,
      new RegExp(
        `^error: --port: 127\\.0\\.0\\.1 \\(port ${port}\\) is already in use by another process`,
      ),
    );
    assert.ok(!fs.existsSync(path.join(dir, 'other')), 'nothing left of the failed start');
  } finally {
    busy.child.kill('SIGTERM');
    await busy.exited;
  }
});

test('signet up on a non-loopback address with the test identities is refused unless the flag says so', async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-expose-'));
  // On every address the stack has no URL of its own to publish (and to name its logs by): the
  // public URL is asked for where the host was given (flag, variable, config file field).
  const wildcard = path.join(data, 'wildcard.yaml');
  fs.writeFileSync(wildcard, 'host: 0.0.0.0\n');
  for (const [args, env, want] of [
    [['--host', '0.0.0.0'], {}, '--public-url: is required with --host 0.0.0.0'],
    [[], { SIGNET_HOST: '0.0.0.0' }, 'SIGNET_PUBLIC_URL: is required with SIGNET_HOST 0.0.0.0'],
    [['--config', wildcard], {}, `${wildcard}: publicUrl: is required with host 0.0.0.0`],
  ] as const) {
    const noUrl = spawnSync(bin, ['up', ...args, '--port', '0', '--data', data], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, ...env },
    });
    assert.equal(noUrl.status, 1, noUrl.stderr);
    assert.equal(
      noUrl.stderr,
      `error: ${want}, which listens on every address: the stack publishes its URL (the CA, the logs, the TUF metadata), and each new log keeps it as its origin for good; set it to the URL clients reach the stack at\n`,
    );
  }
  for (const [bad, re] of [
    ['signet.example.com', /is not a URL/],
    ['ftp://signet.example.com', /is not an http\(s\) URL/],
    ['https://user:pw@signet.example.com', /must not carry a user name or password/],
    ['https://signet.example.com/?q=1', /must not have a query or a fragment/],
  ] as const) {
    const b = spawnSync(bin, ['up', '--port', '0', '--data', data, '--public-url', bad], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(b.status, 1, b.stderr);
    assert.match(b.stderr, new RegExp(`^error: --public-url: .*${re.source}`, 'm'), bad);
  }
  const port = await freePort();
  const exposed = [
    '--host',
    '0.0.0.0',
    '--port',
    String(port),
    '--public-url',
    `http://127.0.0.1:${port}`,
  ];
  const r = spawnSync(bin, ['up', ...exposed, '--data', data], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /refusing to listen on 0\.0\.0\.0 \(not loopback\): the CA trusts the built-in identity provider .* without a password .*; the password-less test grant is on/,
  );
  assert.match(r.stderr, /--insecure-public-test-identities/);
  // Clients and identities configured: the login page still has no password, and the default
  // identities stay beside the configured ones unless turned off. Refused.
  const own = path.join(data, 'own.yaml');
  fs.writeFileSync(
    own,
    'oidc:\n  clients: [{ id: sigstore }]\n  identities: [{ flavor: email, name: ops@example.com }]\n',
  );
  const o = spawnSync(bin, ['up', ...exposed, '--data', data, '--config', own], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(o.status, 1, o.stderr);
  assert.match(o.stderr, /signs anyone in without a password as any identity it lists/);
  assert.match(o.stderr, /the default identities \(dev@signet\.local, \.\.\.\) are on/);
  assert.doesNotMatch(o.stderr, /test grant/);
  // A CA that trusts configured issuers: allowed (on loopback-reachable 0.0.0.0 for the test).
  const cfg = path.join(data, 'signet.yaml');
  fs.writeFileSync(
    cfg,
    "ca:\n  issuers: { oidc-issuers: { 'https://issuer.example': { type: email, client-id: sigstore } } }\n",
  );
  for (const args of [['--config', cfg], ['--insecure-public-test-identities']]) {
    const p = await upAndReady([...exposed, '--data', data, ...args]);
    if (args[0] === '--insecure-public-test-identities')
      assert.match(
        p.out(),
        /WARNING: listening on 0\.0\.0\.0 with the built-in provider's local-use defaults/,
      );
    else assert.doesNotMatch(p.out(), /WARNING/);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  }
});

test('signet up --config with a bad value in a later section writes nothing, says which field in one line, and starts once it is fixed', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-config-'));
  const data = path.join(dir, 'data');
  const cfg = path.join(dir, 'signet.yaml');
  // The identity provider and the CT log come before the CA and make their keys first.
  for (const [section, field] of [
    ['ca:\n  keyType: rsa-1024\n', 'ca.keyType: must be P-384 or P-256, not "rsa-1024"'],
    ['tuf:\n  lifetimes: { snapshot: -1 }\n', 'tuf.lifetimes.snapshot: must be a positive'],
  ]) {
    fs.writeFileSync(cfg, `oidc:\n  tokenLifetimeSeconds: 300\n${section}`);
    const r = spawnSync(bin, ['up', '--config', cfg, '--port', '0', '--data', data], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith(`error: ${cfg}: ${field}`), r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(fs.existsSync(data), false, `${field}: the data folder was made`);
  }
  fs.writeFileSync(cfg, 'oidc:\n  tokenLifetimeSeconds: 300\nca:\n  keyType: P-256\n');
  const p = await upAndReady(['--config', cfg, '--port', '0', '--data', data]);
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.out());
  assert.ok(fs.existsSync(path.join(data, 'keys', 'ca')), fs.readdirSync(data).join(' '));
});

test('signet up that fails after binding its port (a later service cannot start) removes what it made, and keeps all the data folder held', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-late-'));
  /** Every entry of `data` with the SHA-256 of each file's bytes. */
  const contents = (data: string) =>
    Object.fromEntries(
      fs
        .readdirSync(data, { recursive: true, encoding: 'utf8' })
        .sort()
        .map((p) => {
          const f = path.join(data, p);
          return [
            p,
            fs.lstatSync(f).isFile()
              ? createHash('sha256').update(fs.readFileSync(f)).digest('hex')
              : 'folder',
          ];
        }),
    );
  /** A start that binds its port, makes the keys of the services before the TSA, then fails. */
  const failsAtTsa = (data: string, more: string[] = []) => {
    const r = spawnSync(bin, ['up', '--port', '0', '--data', data, ...more], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `error: key ring tsa: ${path.join(data, 'keys', 'tsa', 'ring.json')} is not valid JSON (unexpected "g")\n`,
    );
  };
  // A folder holding a file of the operator's and a broken TSA key ring: the identity
  // provider, the CT log, the CA and the transparency log make their keys, records and
  // databases first.
  const some = path.join(dir, 'some');
  fs.mkdirSync(path.join(some, 'keys', 'tsa'), { recursive: true });
  fs.writeFileSync(path.join(some, 'keys', 'tsa', 'ring.json'), 'garbage');
  fs.writeFileSync(path.join(some, 'notes.txt'), 'mine');
  const before = contents(some);
  failsAtTsa(some);
  assert.deepEqual(contents(some), before);
  // A folder a stack has run in: nothing of it is removed or changed.
  const used = path.join(dir, 'used');
  const p = await upAndReady(['--port', '0', '--data', used]);
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.out());
  fs.writeFileSync(path.join(used, 'keys', 'tsa', 'ring.json'), 'garbage');
  const held = contents(used);
  assert.ok(held[path.join('keys', 'ca', '1.pem')] !== undefined, Object.keys(held).join(' '));
  failsAtTsa(used);
  assert.deepEqual(contents(used), held);
  // On PostgreSQL the logs made in the database are signed by the keys just made: those are
  // kept, and once the TSA's ring is fixed the stack starts on that database with them.
  const db = await freshDatabase();
  try {
    const pgData = path.join(dir, 'pg');
    fs.mkdirSync(path.join(pgData, 'keys', 'tsa'), { recursive: true });
    fs.writeFileSync(path.join(pgData, 'keys', 'tsa', 'ring.json'), 'garbage');
    failsAtTsa(pgData, ['--database', db.url]);
    assert.ok(fs.existsSync(path.join(pgData, 'keys', 'rekor', 'ring.json')));
    fs.rmSync(path.join(pgData, 'keys', 'tsa'), { recursive: true });
    const again = await upAndReady(['--port', '0', '--data', pgData, '--database', db.url]);
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0, again.out());
  } finally {
    await db.drop();
  }
});

test('relative paths in a config file are read from its folder, whatever folder signet up runs in; a missing one is named with its full path', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-paths-'));
  const conf = path.join(dir, 'etc');
  const elsewhere = path.join(dir, 'elsewhere');
  fs.mkdirSync(path.join(conf, 'pki'), { recursive: true });
  fs.mkdirSync(elsewhere);
  const root = ca('file-root');
  const issuing = ca('file-issuing', root);
  const pem = (c: IssuingCa) => encodePem('CERTIFICATE', c.certificate.der);
  fs.writeFileSync(path.join(conf, 'pki', 'chain.pem'), pem(issuing) + pem(root));
  fs.writeFileSync(
    path.join(conf, 'pki', 'key.pem'),
    issuing.key.export({ format: 'pem', type: 'pkcs8' }),
  );
  const otherRoot = ca('other-root');
  fs.writeFileSync(path.join(conf, 'pki', 'other-root.pem'), pem(otherRoot));
  fs.writeFileSync(
    path.join(conf, 'issuers.yaml'),
    'oidc-issuers:\n  https://issuer.example:\n    issuer-url: https://issuer.example\n    client-id: sigstore\n    type: email\n',
  );
  const cfg = path.join(conf, 'signet.yaml');
  const write = (ca: string, roots = '[pki/other-root.pem]') =>
    fs.writeFileSync(cfg, `data: data\nca:${ca ? `\n${ca}` : ' {}\n'}ctlog:\n  roots: ${roots}\n`);
  write('  issuers: issuers.yaml\n  certChain: pki/chain.pem\n  key: ./pki/key.pem\n');
  // From another folder, the config named by a relative path too (../etc/signet.yaml).
  const p = await upAndReady(['--config', '../etc/signet.yaml', '--port', '0'], elsewhere);
  try {
    const url = /signet is up at (\S+)/.exec(p.out())![1]!;
    const get = async (u: string) => (await (await fetch(`${url}${u}`)).json()) as unknown;
    const config = (await get('/fulcio/api/v2/configuration')) as {
      issuers: { issuerUrl: string }[];
    };
    assert.deepEqual(
      config.issuers.map((i) => i.issuerUrl),
      ['https://issuer.example'],
    );
    const bundle = JSON.stringify(await get('/fulcio/api/v2/trustBundle'));
    assert.ok(bundle.includes(pem(issuing).split('\n')[1]!), 'the CA is not the one from pki/');
    const roots = (await get('/ctlog/ct/v1/get-roots')) as { certificates: string[] };
    assert.ok(
      roots.certificates.includes(Buffer.from(otherRoot.certificate.der).toString('base64')),
    );
  } finally {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.out());
  }
  assert.ok(fs.existsSync(path.join(conf, 'data', 'keys', 'ctlog')), 'data: not beside the config');
  assert.deepEqual(fs.readdirSync(elsewhere), []);

  // A file that is not there: the field and where it was looked for.
  for (const [ca, roots, line] of [
    [
      '  issuers: missing/issuers.yaml\n',
      '[]',
      `ca.issuers: cannot read issuer configuration: ${conf}/missing/issuers.yaml does not exist`,
    ],
    [
      '  certChain: pki/chain.pem\n  key: pki/no-key.pem\n',
      '[]',
      `ca.key: cannot read key file: ${conf}/pki/no-key.pem does not exist`,
    ],
    [
      '',
      '[pki/no-root.pem]',
      `ctlog.roots[0]: cannot read root certificates: ${conf}/pki/no-root.pem does not exist`,
    ],
    // An absolute path is taken as it is.
    [
      `  issuers: ${elsewhere}/issuers.yaml\n`,
      '[]',
      `ca.issuers: cannot read issuer configuration: ${elsewhere}/issuers.yaml does not exist`,
    ],
  ]) {
    write(ca!, roots);
    const r = spawnSync(bin, ['up', '--config', cfg, '--port', '0'], {
      encoding: 'utf8',
      cwd: elsewhere,
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `error: ${cfg}: ${line}; check the path\n`);
  }
});

test('a bad setting is named by where it came from: the config file and its field, the flag or the environment variable', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-sources-'));
  const data = path.join(dir, 'data');
  fs.writeFileSync(path.join(dir, 'issuers.yaml'), 'oidc-issuers:\n  x: 3\n');
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(bin, ['up', '--port', '0', '--data', data, ...args], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, ...env },
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    return r.stderr;
  };
  // Every section's mistake leads with the file, as given (relative here), then the field.
  for (const [yaml, line] of [
    ['ca:\n  keyType: P-521\n', 'ca.keyType: must be P-384 or P-256, not "P-521"'],
    ['tsa:\n  includeChain: 3\n', 'tsa.includeChain: must be true or false'],
    ['tuf:\n  lifetimes: { root: x }\n', 'tuf.lifetimes.root: must be a positive'],
    ['rekor:\n  batchMaxAgeMs: -1\n', 'rekor.batchMaxAgeMs: must be a number >= 0'],
    ['oidc:\n  identities: [{ flavor: x }]\n', 'oidc.identities[0].flavor: must be one of'],
    ['ctlog:\n  roots: [issuers.yaml]\n', 'ctlog.roots[0]: contains no PEM block'],
    ['ca:\n  certChain: chain.pem\n', 'ca: give both certChain and key, or neither'],
    [
      'ca:\n  issuers: missing.yaml\n',
      `ca.issuers: cannot read issuer configuration: ${dir}/missing.yaml does not exist`,
    ],
    ['publicUrl: signet.example.com\n', 'publicUrl: "signet.example.com" is not a URL'],
    ['database: mysql://db/signet\n', 'database: must be a postgres:// URL'],
  ]) {
    fs.writeFileSync(path.join(dir, 'signet.yaml'), yaml!);
    const err = run(['--config', 'signet.yaml']);
    assert.ok(err.startsWith(`error: signet.yaml: ${line}`), err);
  }
  // A mistake inside the issuers file the section names is that file's, and says so.
  fs.writeFileSync(path.join(dir, 'signet.yaml'), 'ca:\n  issuers: issuers.yaml\n');
  assert.equal(
    run(['--config', 'signet.yaml']),
    `error: ${dir}/issuers.yaml: oidc-issuers.x: must be a map\n`,
  );
  // The same settings from the environment (over the file) and from a flag (over both).
  fs.writeFileSync(
    path.join(dir, 'signet.yaml'),
    'publicUrl: https://ok.example\ndatabase: postgres://db/signet\n',
  );
  const env = { SIGNET_PUBLIC_URL: 'env.example', SIGNET_DATABASE: 'mysql://env/x' };
  assert.match(run([], env), /^error: SIGNET_PUBLIC_URL: "env\.example" is not a URL/);
  assert.match(
    run(['--config', 'signet.yaml'], { SIGNET_DATABASE: 'mysql://env/x' }),
    /^error: SIGNET_DATABASE: must be a postgres:\/\/ URL/,
  );
  assert.match(
    run(['--config', 'signet.yaml', '--public-url', 'flag.example'], env),
    /^error: --public-url: "flag\.example" is not a URL/,
  );
  assert.match(
    run(['--database', 'mysql://flag/x'], { SIGNET_DATABASE: 'mysql://env/x' }),
    /^error: --database: must be a postgres:\/\/ URL/,
  );
  assert.equal(fs.existsSync(data), false);
});

test("the banner's way to pin the TUF root works as printed: the curl line, then --tuf-root with the file", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-pin-'));
  const p = await upAndReady(['--port', '0', '--data', path.join(dir, 'data')]);
  try {
    const url = /signet is up at (\S+)/.exec(p.out())![1]!;
    // Every --tuf-root the banner shows takes a file, never a URL.
    for (const m of p.out().matchAll(/--tuf-root (\S+)/g))
      assert.doesNotMatch(m[1]!, /^https?:/, p.out());
    const pin = /^ {2}pin its root: +(curl .*), then --tuf-root (\S+)$/m.exec(p.out());
    assert.ok(pin, p.out());
    const curl = spawnSync('bash', ['-c', pin[1]!], { cwd: dir, encoding: 'utf8' });
    assert.equal(curl.status, 0, curl.stderr);
    fs.writeFileSync(path.join(dir, 'a.txt'), 'hello');
    const env = { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf'), HOME: dir };
    const token = spawnSync(bin, ['token', '--server', url, '--subject', 'dev@signet.local'], {
      encoding: 'utf8',
    });
    assert.equal(token.status, 0, token.stderr);
    const sign = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(
        bin,
        [
          'sign-blob',
          ...['--server', url, '--tuf-root', pin[2]!, '--identity-token', token.stdout.trim()],
          ...['--bundle', 'a.txt.sigstore.json', 'a.txt'],
        ],
        { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('close', (code) => resolve({ code, err }));
    });
    assert.equal(sign.code, 0, sign.err);
    assert.doesNotMatch(sign.err, /first use/, 'the root was not taken from the pinned file');
  } finally {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.out());
  }
});

test('the banner shows the signet token example only where the test grant gets a certificate; with oidc.clients, signet token says why it is refused and what to do', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-grant-'));
  const cfg = path.join(dir, 'signet.yaml');
  const banner = async (config: string) => {
    fs.writeFileSync(cfg, config);
    const data = fs.mkdtempSync(path.join(dir, 'data-'));
    const p = await upAndReady(['--port', '0', '--data', data, '--config', cfg]);
    const url = /signet is up at (\S+)/.exec(p.out())![1]!;
    // The banner, without the JSON log lines around it.
    const out = p
      .out()
      .split('\n')
      .filter((l) => !l.startsWith('{'))
      .join('\n');
    return { p, url, out };
  };
  const stop = async (p: ReturnType<typeof up>) => {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.out());
  };
  // Default: the example's token works, so it is shown.
  const open = await banner('{}\n');
  try {
    assert.match(open.out, /signet token --server \S+ --subject dev@signet\.local/);
    // Run from the clone's folder, as the README does: its ./bin/signet.
    assert.match(open.out, /^ {2}\.\/bin\/signet sign-blob .*"\$\(\.\/bin\/signet token /m);
    const t = spawnSync(bin, ['token', '--server', open.url, '--subject', 'dev@signet.local'], {
      encoding: 'utf8',
    });
    assert.equal(t.status, 0, t.stderr);
  } finally {
    await stop(open.p);
  }
  // The README's example config: the public client without the test grant.
  const clients = await banner('oidc:\n  clients: [{ id: sigstore }]\n');
  try {
    assert.doesNotMatch(clients.out, /signet token --server/, clients.out);
    assert.match(clients.out, /oidc\.clients turned the test grant off/);
    assert.match(clients.out, /--flow device or --flow browser/);
    assert.match(clients.out, new RegExp(`signet sign-blob --server ${clients.url} --bundle`));
    const t = spawnSync(bin, ['token', '--server', clients.url, '--subject', 'dev@signet.local'], {
      encoding: 'utf8',
    });
    assert.equal(t.status, 1);
    assert.equal(
      t.stderr,
      `error: ${clients.url}/oidc refused: client sigstore may not use the client_credentials grant: the password-less test grant is off for it (oidc.clients lists it without testGrant: true); sign in instead with --flow device or --flow browser\n`,
    );
  } finally {
    await stop(clients.p);
  }
  // A CA that trusts other issuers: a token from the built-in provider gets no certificate.
  const issuers = await banner(
    "ca:\n  issuers: { oidc-issuers: { 'https://issuer.example': { type: email, client-id: sigstore } } }\n",
  );
  try {
    assert.doesNotMatch(issuers.out, /signet token --server/, issuers.out);
    assert.match(issuers.out, /the CA trusts the issuers of ca\.issuers/);
  } finally {
    await stop(issuers.p);
  }
});

test('behind --public-url, the banner and the "stack started" log line say where signet up really listens (with --port 0, its port)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-where-'));
  const publicUrl = 'http://signet.example.test';
  const p = await upAndReady([
    '--port',
    '0',
    '--data',
    path.join(dir, 'data'),
    '--public-url',
    publicUrl,
  ]);
  try {
    const m = /^signet is up at (\S+) \(listening on 127\.0\.0\.1:(\d+)\)$/m.exec(p.out());
    assert.ok(m, p.out());
    assert.equal(m[1], publicUrl);
    const started = p
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'stack started');
    assert.ok(started, p.out());
    assert.equal(started['url'], publicUrl);
    assert.equal(started['listening'], `127.0.0.1:${m[2]}`);
    // It is where the stack answers.
    const health = await fetch(`http://127.0.0.1:${m[2]}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.out());
  }
  // Without a public URL, the URL is where it listens: said once.
  const plain = await upAndReady(['--port', '0', '--data', path.join(dir, 'plain')]);
  try {
    assert.match(plain.out(), /^signet is up at http:\/\/127\.0\.0\.1:\d+$/m);
    assert.doesNotMatch(plain.out(), /listening/);
  } finally {
    plain.child.kill('SIGTERM');
    assert.equal(await plain.exited, 0, plain.out());
  }
});

test("signet up --database ...?sslmode=require fails in one line that says what sslmode=require means, without pg's 10-line warning", () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-sslmode-'));
  const r = spawnSync(
    bin,
    ['up', '--port', '0', '--data', data, '--database', `${PG_ADMIN_URL}?sslmode=require`],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /SECURITY WARNING/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: cannot open the PostgreSQL database .*\?sslmode=require: .*; sslmode=require is taken as verify-full: TLS with a certificate trusted for the host name$/m,
  );
});
