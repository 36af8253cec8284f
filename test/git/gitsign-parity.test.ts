/**
 * What a gitsign user brings along (gitsign's README, internal/config/config.go): gitsign's git
 * config keys and environment variables, its verify flags and its program flags, with Debian's
 * real git against a whole stack on loopback. Each must do what it does in gitsign, or be
 * refused with a reason, never be silently dropped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { approveDeviceCode, tempStack, stackToken } from '../helpers/stack.ts';
import { agentRequest } from '../../src/client/git/agent.ts';
import { cosigner, formatCosignerKey } from '../../src/core/note/cosignature.ts';
import { configureGitsignOnly, gitWorld, must, PROGRAM, run } from './helpers.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
let token: string;
const world = gitWorld();
let repo: string;

before(async () => {
  stack = await tempStack();
  token = await stackToken(stack.url, 'dev@signet.local');
  repo = world.repo();
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
});

after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000);
  await stack.close();
});

const ALICE = { GIT_COMMITTER_EMAIL: 'alice@example.com' };
const commit = (message: string, env: Record<string, string> = {}) =>
  world.git(repo, ['commit', '-q', '--allow-empty', '-m', message], env);
const lastLogLine = (file = world.log) => fs.readFileSync(file, 'utf8').trim().split('\n').at(-1)!;
const treeSize = async () =>
  ((await (await fetch(`${stack.url}/rekor/api/v1/log`)).json()) as { treeSize: number }).treeSize;

test('gitsign.matchCommitter: a certificate for someone else than the committer signs nothing', async () => {
  await must(world.git(repo, ['config', 'gitsign.matchCommitter', 'true']));
  const size = await treeSize();
  // A sign-in as dev@signet.local while git records alice@example.com as the committer.
  const r = await commit('as alice', { ...ALICE, SIGSTORE_ID_TOKEN: token });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /gpg failed to sign the data/);
  assert.match(
    lastLogLine(),
    /^\S+ signet: cannot sign: matchCommitter: the certificate is for dev@signet\.local, not the committer Dev <alice@example\.com>; /,
  );
  assert.equal(await treeSize(), size, 'a refused signature leaves no log entry');
  // Nor a cached credential: without a token, nothing can sign for dev either.
  assert.notEqual((await commit('as dev, no token')).status, 0);
  assert.match(lastLogLine(), /cannot sign: no identity token found/);

  // The committer it names signs (and the credential cache keeps the certificate) ...
  await must(commit('as dev', { SIGSTORE_ID_TOKEN: token }));
  assert.equal(await treeSize(), size + 1);
  // ... and the cache refuses it for another committer, again before anything is logged.
  const c = await commit('as alice, cached', ALICE);
  assert.notEqual(c.status, 0);
  assert.match(lastLogLine(), /cannot sign: matchCommitter: .* not the committer Dev <alice@/);
  assert.equal(await treeSize(), size + 1);

  // Signet's own name wins over gitsign's; a value that is not a boolean is refused by name.
  await must(world.git(repo, ['config', 'signet.matchCommitter', 'false']));
  await must(commit('as alice, allowed', ALICE));
  await must(world.git(repo, ['config', 'signet.matchCommitter', 'maybe']));
  assert.notEqual((await commit('bad setting')).status, 0);
  assert.match(lastLogLine(), /signet\.matchCommitter: "maybe" is not true or false$/);
  await must(world.git(repo, ['config', '--unset', 'signet.matchCommitter']));
  await must(world.git(repo, ['config', '--unset', 'gitsign.matchCommitter']));
});

test("gitsign's log settings (GITSIGN_LOG, gitsign.logPath) receive the failure line", async () => {
  const bad = { SIGNET_GIT_LOG: '', SIGNET_CACHE: 'false' }; // no token, no cache: fails
  const envLog = path.join(world.dir, 'gitsign-env.log');
  assert.notEqual((await commit('x', { ...bad, GITSIGN_LOG: envLog })).status, 0);
  assert.match(lastLogLine(envLog), /signet: cannot sign: no identity token found/);
  const cfgLog = path.join(world.dir, 'gitsign-config.log');
  await must(world.git(repo, ['config', 'gitsign.logPath', cfgLog]));
  assert.notEqual((await commit('x', bad)).status, 0);
  assert.match(lastLogLine(cfgLog), /signet: cannot sign: no identity token found/);
  await must(world.git(repo, ['config', '--unset', 'gitsign.logPath']));
});

const ID = ['--certificate-identity', 'dev@signet.local', '--certificate-oidc-issuer'];

test('verify-commit and verify-tag: --witness-key is required, not ignored; --insecure-ignore-sct as gitsign verify has it', async () => {
  await must(commit('to verify', { SIGSTORE_ID_TOKEN: token }));
  await must(world.git(repo, ['tag', '-s', 'v1', '-m', 'v1'], { SIGSTORE_ID_TOKEN: token }));
  const id = [...ID, `${stack.url}/oidc`];
  const witness = formatCosignerKey(
    cosigner('witness.example/w', generateKeyPairSync('ed25519').privateKey),
  );
  for (const args of [
    ['verify-commit', ...id, '--witness-key', witness],
    ['verify-tag', 'v1', ...id, '--witness-key', witness],
  ]) {
    const r = await world.signet(repo, args);
    assert.equal(r.status, 12, r.stderr);
    assert.match(
      r.stderr,
      /^error: the checkpoint of entry \d+: 1 cosignature is needed from the required witnesses witness\.example\/w; it has 0/m,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  const t = await world.signet(repo, ['verify-commit', ...id, '--witness-threshold', '2']);
  assert.equal(t.status, 1);
  assert.match(t.stderr, /^error: --witness-threshold: needs --witness-key/m);
  // With --policy the policies decide: flags it would not use are refused, not dropped.
  const p = await world.signet(repo, [
    'verify-commit',
    '--policy',
    'p.yaml',
    '--witness-key',
    witness,
  ]);
  assert.equal(p.status, 1);
  assert.match(p.stderr, /^error: --witness-key: does not go with --policy/m);

  // A trusted root without the CT log: the SCT cannot be checked, unless asked not to.
  const root = JSON.parse(await (await fetch(`${stack.url}/trusted_root.json`)).text()) as {
    ctlogs: unknown[];
  };
  root.ctlogs = [];
  const noCt = path.join(world.dir, 'no-ctlog-root.json');
  fs.writeFileSync(noCt, JSON.stringify(root));
  const strict = await world.signet(repo, ['verify-commit', ...id, '--trusted-root', noCt]);
  assert.equal(strict.status, 12, strict.stderr);
  assert.match(
    strict.stderr,
    /^error: the certificate's signed certificate timestamp does not verify/m,
  );
  const lax = await world.signet(repo, [
    'verify-commit',
    ...id,
    '--trusted-root',
    noCt,
    '--insecure-ignore-sct',
  ]);
  assert.equal(lax.status, 0, lax.stderr);
  assert.match(lax.stderr, /^Verified OK: commit /m);
});

test("gitsign's trust settings: fulcioRoot and timestampCertChain replace the CAs and TSAs git verifies with", async () => {
  await must(commit('trust settings', { SIGSTORE_ID_TOKEN: token }));
  const root = (await (await fetch(`${stack.url}/trusted_root.json`)).json()) as {
    certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
    timestampAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
  };
  const pem = (a: { certChain: { certificates: Array<{ rawBytes: string }> } }) =>
    a.certChain.certificates
      .map((c) => `-----BEGIN CERTIFICATE-----\n${c.rawBytes}\n-----END CERTIFICATE-----\n`)
      .join('');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-gitsign-trust-'));
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const stackCa = file('ca.pem', pem(root.certificateAuthorities[0]!));
  const stackTsa = file('tsa.pem', pem(root.timestampAuthorities[0]!));
  // Another CA and another TSA, made by OpenSSL: nothing the stack issued chains to them.
  const { selfSigned } = await import('../helpers/tls.ts');
  const otherCa = selfSigned(dir, 'DNS:other-ca.test', 'other-ca').cert;
  const { startOpensslTsa } = await import('../helpers/openssl-tsa.ts');
  const otherTsa = await startOpensslTsa();
  const verifyHead = (env: Record<string, string> = {}) =>
    world.git(repo, ['verify-commit', 'HEAD'], env);
  // gitsign's own verify command reads them too.
  const gitsignVerify = () =>
    run(
      PROGRAM,
      [
        'verify',
        '--certificate-identity',
        'dev@signet.local',
        '--certificate-oidc-issuer',
        `${stack.url}/oidc`,
        'HEAD',
      ],
      repo,
      world.env,
    );
  // And Signet's own verify-commit, which is gitsign's verify.
  const signetVerify = () =>
    world.signet(repo, [
      'verify-commit',
      '--certificate-identity',
      'dev@signet.local',
      '--certificate-oidc-issuer',
      `${stack.url}/oidc`,
      'HEAD',
    ]);
  try {
    // The stack's own CA and TSA, named by gitsign's settings: the commit verifies.
    await must(world.git(repo, ['config', 'gitsign.fulcioRoot', stackCa]));
    await must(world.git(repo, ['config', 'gitsign.timestampCertChain', stackTsa]));
    await must(verifyHead());
    await must(gitsignVerify());
    await must(signetVerify());
    // Another CA: the certificate does not chain to it, whatever the stack's trusted root says.
    await must(world.git(repo, ['config', 'gitsign.fulcioRoot', otherCa]));
    const ca = await verifyHead();
    assert.notEqual(ca.status, 0);
    for (const other of [await gitsignVerify(), await signetVerify()]) {
      assert.notEqual(other.status, 0);
      assert.match(
        other.stderr,
        /the signing certificate was not issued by a CA of the trusted root/,
      );
    }
    assert.match(
      ca.stderr,
      /^signet: cannot verify: the signing certificate was not issued by a CA of the trusted root/m,
    );
    // GITSIGN_FULCIO_ROOT wins over the git config, as in gitsign; SIGSTORE_ROOT_FILE too.
    await must(verifyHead({ GITSIGN_FULCIO_ROOT: stackCa }));
    await must(verifyHead({ SIGSTORE_ROOT_FILE: stackCa }));
    await must(world.git(repo, ['config', 'gitsign.fulcioRoot', stackCa]));
    // Another TSA: the commit's timestamp is not from an authority it trusts.
    await must(world.git(repo, ['config', 'gitsign.timestampCertChain', otherTsa.chainFile]));
    const tsa = await verifyHead();
    assert.notEqual(tsa.status, 0);
    assert.match(
      tsa.stderr,
      /^signet: cannot verify: RFC 3161 timestamp 1 does not verify: TSA certificate chain from the trusted root: the signing certificate was not issued by a CA of the trusted root \(issuer "CN=signet-tsa-root, O=signet"\)/m,
    );
    await must(verifyHead({ GITSIGN_TIMESTAMP_CERT_CHAIN: stackTsa }));
    // As gitsign reads it: the root alone, or the chain in any order; the TSA's certificate
    // comes from the timestamp. A file without a root trusts nothing, and says so.
    const tsaCerts = root.timestampAuthorities[0]!.certChain.certificates;
    const only = (certs: Array<{ rawBytes: string }>) =>
      pem({ certChain: { certificates: certs } });
    const rootOnly = file('tsa-root.pem', only(tsaCerts.slice(-1)));
    const reversed = file('tsa-reversed.pem', only([...tsaCerts].reverse()));
    const noRoot = file('tsa-leaf.pem', only(tsaCerts.slice(0, 1)));
    await must(world.git(repo, ['config', 'gitsign.timestampCertChain', rootOnly]));
    await must(verifyHead());
    await must(gitsignVerify());
    await must(verifyHead({ GITSIGN_TIMESTAMP_CERT_CHAIN: reversed }));
    const leafOnly = await verifyHead({ GITSIGN_TIMESTAMP_CERT_CHAIN: noRoot });
    assert.notEqual(leafOnly.status, 0);
    assert.match(
      leafOnly.stderr,
      /^signet: cannot verify: GITSIGN_TIMESTAMP_CERT_CHAIN: holds no root certificate/m,
    );
    // A file that is not there is named by the setting that gave it.
    await must(
      world.git(repo, ['config', 'gitsign.timestampCertChain', path.join(dir, 'gone.pem')]),
    );
    const gone = await verifyHead();
    assert.notEqual(gone.status, 0);
    const gitsignGone = await gitsignVerify();
    assert.notEqual(gitsignGone.status, 0);
    assert.match(gitsignGone.stderr, /gitsign\.timestampCertChain: .*gone\.pem/);
    assert.match(gone.stderr, /^signet: cannot verify: gitsign\.timestampCertChain: .*gone\.pem/m);
  } finally {
    await otherTsa.close();
    await must(world.git(repo, ['config', '--unset', 'gitsign.fulcioRoot']));
    await must(world.git(repo, ['config', '--unset', 'gitsign.timestampCertChain']));
  }
  await must(verifyHead());
});

test('SIGSTORE_REKOR_PUBLIC_KEY (gitsign and cosign: the key of a custom log): git verify-commit trusts the log by that key, for a v1 entry and a Rekor v2 one', async () => {
  await must(commit('custom log', { SIGSTORE_ID_TOKEN: token }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rekor-key-'));
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const logKey = file(
    'rekor.pem',
    await (await fetch(`${stack.url}/rekor/api/v1/log/publicKey`)).text(),
  );
  const otherKey = file(
    'other.pem',
    generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString(),
  );
  const verifyHead = (env: Record<string, string> = {}) =>
    world.git(repo, ['verify-commit', 'HEAD'], env);
  // The stack's root lists the log: the key file names it, its URL stays the log's name.
  await must(verifyHead({ SIGSTORE_REKOR_PUBLIC_KEY: logKey }));
  // A root without the log (a gitsign user's public-good trust, say): only the key file trusts
  // it, and the checkpoint, which names the log by its host, is still checked with the key.
  const root = (await (await fetch(`${stack.url}/trusted_root.json`)).json()) as Record<
    string,
    unknown
  >;
  const noLog = file('no-log.json', JSON.stringify({ ...root, tlogs: [] }));
  await must(world.git(repo, ['config', 'signet.trustedRoot', noLog]));
  try {
    const without = await verifyHead();
    assert.notEqual(without.status, 0);
    assert.match(without.stderr, /comes from a transparency log that is not in the trusted root/);
    const ok = await verifyHead({ SIGSTORE_REKOR_PUBLIC_KEY: logKey });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /logged at index \d+ in env:SIGSTORE_REKOR_PUBLIC_KEY/);
    const other = await verifyHead({ SIGSTORE_REKOR_PUBLIC_KEY: otherKey });
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /not in the trusted root/);
  } finally {
    await must(world.git(repo, ['config', '--unset', 'signet.trustedRoot']));
  }
  // The stack's Rekor v2 log (git signatures are v1 entries; a blob signs to v2): its checkpoint
  // origin is the log's URL, which a key file does not give, and the key still trusts it.
  const blob = file('blob.txt', 'custom log\n');
  const bundle = `${blob}.sigstore.json`;
  await must(
    world.signet(repo, [
      'sign-blob',
      '--server',
      stack.url,
      '--identity-token',
      token,
      '--bundle',
      bundle,
      blob,
    ]),
  );
  const entry = JSON.parse(fs.readFileSync(bundle, 'utf8')).verificationMaterial.tlogEntries[0];
  assert.equal(entry.kindVersion.version, '0.0.2', 'a Rekor v2 entry');
  const verifyBlob = (env: Record<string, string>) =>
    world.signet(
      repo,
      [
        'verify-blob',
        '--trusted-root',
        noLog,
        '--bundle',
        bundle,
        '--certificate-identity',
        'dev@signet.local',
        '--certificate-oidc-issuer',
        `${stack.url}/oidc`,
        blob,
      ],
      env,
    );
  const v2 = await verifyBlob({ SIGSTORE_REKOR_PUBLIC_KEY: logKey });
  assert.equal(v2.status, 0, v2.stderr);
  assert.equal((await verifyBlob({ SIGSTORE_REKOR_PUBLIC_KEY: otherKey })).status, 12);
});

test('git verify-commit: signet.identity without signet.issuer is refused, not ignored', async () => {
  for (const [key, value] of [
    ['signet.identity', 'mallory@signet.local'],
    ['signet.issuer', `${stack.url}/oidc`],
  ] as const) {
    await must(world.git(repo, ['config', key, value]));
    const raw = await world.git(repo, ['verify-commit', '--raw', 'HEAD']);
    assert.notEqual(raw.status, 0);
    assert.match(raw.stderr, /\[GNUPG:\] ERRSIG /);
    const r = await world.git(repo, ['verify-commit', 'HEAD']);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `signet: cannot verify: ${key.replace('.', '\\.')} is set but signet\\.\\w+ is not`,
      ),
    );
    await must(world.git(repo, ['config', '--unset', key]));
  }
  await must(world.git(repo, ['verify-commit', 'HEAD']));
});

test("gitsign's service settings: GITSIGN_* / gitsign.* choose the services, and alone are enough to sign", async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const once = { SIGSTORE_ID_TOKEN: token, SIGNET_CACHE: 'false' };
  // Over signet.server's signing config, as cosign's --rekor-url is: the log named is used.
  const dead = `http://127.0.0.1:${port}/rekor`;
  assert.notEqual((await commit('x', { ...once, GITSIGN_REKOR_URL: dead })).status, 0);
  assert.match(lastLogLine(), new RegExp(`cannot sign: .*${dead}/api/v1/log/entries`));

  // A repository set up the gitsign way only: gpg.* and gitsign.fulcio, rekor, TSA.
  const r2 = world.repo('gitsign-only');
  await configureGitsignOnly(world, r2, stack.url);
  await must(world.git(r2, ['commit', '-S', '-q', '--allow-empty', '-m', 'g'], once));
  const v = await world.signet(r2, [
    'verify-commit',
    '--server',
    stack.url,
    ...ID,
    `${stack.url}/oidc`,
  ]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /timestamp authority.*transparency log\), log index \d+$/m);

  // Bad values are refused by the name they were given under.
  const bad: Array<[Record<string, string>, RegExp]> = [
    [
      { GITSIGN_FULCIO_URL: 'ftp://ca' },
      /GITSIGN_FULCIO_URL: "ftp:\/\/ca" is not an http\(s\) URL$/,
    ],
    [
      { GITSIGN_OIDC_CLIENT_SECRET_FILE: '/nonexistent/secret' },
      /GITSIGN_OIDC_CLIENT_SECRET_FILE: \/nonexistent\/secret does not exist; check the path$/,
    ],
    [
      { GITSIGN_TOKEN_PROVIDER: 'spiffe' },
      /GITSIGN_TOKEN_PROVIDER: "spiffe" is not a token provider Signet has \(interactive, device, github-actions, buildkite-agent, filesystem\)$/,
    ],
    [
      { SIGSTORE_TOKEN_PROVIDER: 'github-actions' },
      /SIGSTORE_TOKEN_PROVIDER github-actions: no token is available from it here$/,
    ],
  ];
  for (const [env, message] of bad) {
    const r = await world.git(r2, ['commit', '-S', '-q', '--allow-empty', '-m', 'b'], {
      SIGNET_CACHE: 'false',
      ...env,
    });
    assert.notEqual(r.status, 0);
    assert.match(lastLogLine(), message);
  }
});

test("gitsign's sign-in settings: the browser is sent to gitsign.issuer with gitsign.clientID and gitsign.redirectURL", async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const redirect = `http://127.0.0.1:${port}/gitsign/done`;
  // The BROWSER command hands the sign-in URL here; the "browser" then comes back to the
  // redirect with another run's state, which ends the sign-in at once.
  let authorize: URL | undefined;
  const sink = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      authorize = new URL(body);
      res.end();
      void fetch(`${redirect}?state=not-this-run&code=x`).catch(() => {});
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  try {
    await must(world.git(repo, ['config', 'gitsign.issuer', `${stack.url}/oidc/github`]));
    await must(world.git(repo, ['config', 'gitsign.clientID', 'gitsign-client']));
    const r = await commit('sign in', {
      SIGNET_CACHE: 'false',
      SIGNET_SIGN_IN: 'browser',
      GITSIGN_OIDC_REDIRECT_URL: redirect,
      BROWSER: `${process.execPath} ${path.resolve('test/e2e/open-url.ts')}`,
      SIGNET_E2E_URL_SINK: `http://127.0.0.1:${(sink.address() as net.AddressInfo).port}/`,
    });
    assert.notEqual(r.status, 0);
    assert.match(lastLogLine(), /cannot sign: .*wrong state/);
    assert.ok(authorize, 'the browser was given the sign-in URL');
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${stack.url}/oidc/github/auth`);
    assert.equal(authorize.searchParams.get('client_id'), 'gitsign-client');
    assert.equal(authorize.searchParams.get('redirect_uri'), redirect);
  } finally {
    sink.close();
    sink.closeAllConnections();
    await world.git(repo, ['config', '--unset', 'gitsign.issuer']);
    await world.git(repo, ['config', '--unset', 'gitsign.clientID']);
  }
});

test("gitsign's device token provider: at a terminal, the sign-in is a code to enter, even where a browser could open", async () => {
  // `script` gives git, and so the signing program, a terminal: where a person signs in. With a
  // BROWSER that opens nothing, a browser sign-in would wait for a redirect that never comes.
  const env = {
    ...world.env,
    SIGNET_SIGN_IN: 'auto',
    SIGNET_CACHE: 'false',
    GITSIGN_TOKEN_PROVIDER: 'device',
    BROWSER: '/bin/true',
  };
  const before = (await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
  const c = spawn('script', ['-qfec', 'git commit -q --allow-empty -m by-device', '/dev/null'], {
    cwd: repo,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let said = '';
  try {
    const code = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no device code on the terminal within 30 s; it said: ${said}`)),
        30_000,
      );
      c.stdout.on('data', (d: Buffer) => {
        said += d.toString();
        const m = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(said);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    assert.doesNotMatch(said, /browser/i);
    await approveDeviceCode(stack.url, code);
    const exit = await new Promise<number | null>((resolve) => c.once('close', resolve));
    assert.equal(exit, 0, said);
    const head = (await world.git(repo, ['cat-file', 'commit', 'HEAD'])).stdout;
    assert.notEqual((await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim(), before);
    assert.match(head, /^gpgsig -----BEGIN SIGNED MESSAGE-----$/m);
  } finally {
    c.kill('SIGKILL');
  }
});

test("gitsign's program flags: --version answers; -v verifies as --verify does", async () => {
  const v = await must(run(PROGRAM, ['--version'], repo, world.env));
  assert.match(v.stdout, /^signet-gitsign \(signet \d+\.\d+\.\d+\S*\)\n$/);
  await must(commit('for -v', { SIGSTORE_ID_TOKEN: token }));
  const raw = (await world.git(repo, ['cat-file', 'commit', 'HEAD'])).stdout;
  const sig =
    /^gpgsig (-----BEGIN SIGNED MESSAGE-----\n(?: .*\n)*? -----END SIGNED MESSAGE-----)\n/m
      .exec(raw)![1]!
      .replace(/\n /g, '\n');
  const payload = raw.replace(/^gpgsig .*\n(?: .*\n)*/m, '');
  const file = path.join(world.dir, 'head.sig');
  fs.writeFileSync(file, `${sig}\n`);
  const r = await run(PROGRAM, ['--status-fd=1', '-v', file, '-'], repo, world.env, payload);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\[GNUPG:\] GOODSIG [0-9A-F]{40} dev@signet\.local$/m);
});

test("gitsign's verify commands: signet-gitsign verify [COMMIT] and verify-tag TAG, with gitsign's flags", async () => {
  await must(commit('for gitsign verify', { SIGSTORE_ID_TOKEN: token }));
  await must(
    world.git(repo, ['tag', '-s', '-m', 'release', 'v-gitsign'], { SIGSTORE_ID_TOKEN: token }),
  );
  const issuer = `${stack.url}/oidc`;
  const who = ['--certificate-oidc-issuer', issuer];
  const ok = await run(
    PROGRAM,
    ['verify', '--certificate-identity', 'dev@signet.local', ...who, 'HEAD'],
    repo,
    world.env,
  );
  assert.equal(ok.status, 0, ok.stderr);
  const re = await run(
    PROGRAM,
    ['verify', '--certificate-identity-regexp', 'dev@signet\\.local', ...who],
    repo,
    world.env,
  );
  assert.equal(re.status, 0, re.stderr);
  const tag = await run(
    PROGRAM,
    ['verify-tag', '--certificate-identity', 'dev@signet.local', ...who, 'v-gitsign'],
    repo,
    world.env,
  );
  assert.equal(tag.status, 0, tag.stderr);
  const other = await run(
    PROGRAM,
    ['verify', '--certificate-identity', 'mallory@signet.local', ...who, 'HEAD'],
    repo,
    world.env,
  );
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /mallory@signet\.local/);
});

test("gitsign's attest: a signed statement about HEAD's commit or tree, kept on refs/attestations, logged", async () => {
  await must(commit('to attest', { SIGSTORE_ID_TOKEN: token }));
  const head = (await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
  const tree = (await world.git(repo, ['rev-parse', 'HEAD^{tree}'])).stdout.trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-attest-'));
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const provenance = file('provenance.json', '{"builder":{"id":"https://ci.example/b"}}');
  const sbom = file('sbom.json', '{"packages":[]}');
  const attest = (args: string[]) =>
    run(PROGRAM, ['attest', ...args], repo, { ...world.env, SIGSTORE_ID_TOKEN: token });
  const show = async (spec: string) => (await world.git(repo, ['show', spec])).stdout;
  const before = await treeSize();
  const one = await attest(['-f', provenance, '--type', 'https://slsa.dev/provenance/v1']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stderr, /^tlog entry created with index: \d+$/m);
  const first = one.stdout.trim();
  assert.equal(
    (await world.git(repo, ['rev-parse', 'refs/attestations/commits'])).stdout.trim(),
    first,
  );
  // The predicate file as given, and its envelope: an in-toto statement about HEAD.
  const ref = 'refs/attestations/commits';
  assert.equal(await show(`${ref}:${head}/provenance.json`), fs.readFileSync(provenance, 'utf8'));
  const envelope = JSON.parse(await show(`${ref}:${head}/provenance.json.sig`)) as {
    payloadType: string;
    payload: string;
    signatures: Array<{ sig: string }>;
  };
  assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as unknown;
  assert.deepEqual(statement, {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { gitCommit: head } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { builder: { id: 'https://ci.example/b' } },
  });
  // Logged under the signer's identity, and the envelope's signature is that certificate's.
  assert.equal(await treeSize(), before + 1);
  const logged = (await (
    await fetch(`${stack.url}/rekor/api/v2/index?identity=dev%40signet.local`)
  ).json()) as { entries: Array<{ logIndex: string }> };
  const index = Math.max(...logged.entries.map((e) => Number(e.logIndex)));
  const entry = (await (
    await fetch(`${stack.url}/rekor/api/v1/log/entries?logIndex=${index}`)
  ).json()) as Record<string, { body: string }>;
  const body = JSON.parse(Buffer.from(Object.values(entry)[0]!.body, 'base64').toString()) as {
    kind: string;
    spec: { signatures: Array<{ signature: string; verifier: string }> };
  };
  assert.equal(body.kind, 'dsse');
  assert.equal(body.spec.signatures[0]!.signature, envelope.signatures[0]!.sig);
  const pem = Buffer.from(body.spec.signatures[0]!.verifier, 'base64').toString();
  const { X509Certificate, verify } = await import('node:crypto');
  const cert = new X509Certificate(pem);
  assert.match(cert.subjectAltName ?? '', /dev@signet\.local/);
  const { pae } = await import('../../src/core/dsse/index.ts');
  const signed = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  assert.ok(
    verify('sha256', signed, cert.publicKey, Buffer.from(envelope.signatures[0]!.sig, 'base64')),
  );
  // The explorer finds it by the commit's ID, as an artifact's attestations by its digest.
  const byCommit = (await (await fetch(`${stack.url}/explorer/api/search?q=${head}`)).json()) as {
    items: Array<{ logIndex: number; kind: string }>;
  };
  assert.deepEqual(
    byCommit.items.map((i) => [i.logIndex, i.kind]),
    [[index, 'dsse']],
  );
  // A second attestation is a commit on top: both are there, each as gitsign keeps it (the
  // predicate file and its envelope) and with the bundle Signet keeps beside.
  const two = await attest(['-f', sbom, '--type', 'spdxjson']);
  assert.equal(two.status, 0, two.stderr);
  assert.equal(
    (await world.git(repo, ['rev-parse', `${two.stdout.trim()}^`])).stdout.trim(),
    first,
  );
  const files = (await world.git(repo, ['ls-tree', '--name-only', `${ref}:${head}`])).stdout;
  assert.deepEqual(files.trim().split('\n'), [
    'provenance.json',
    'provenance.json.sig',
    'provenance.json.sigstore.json',
    'sbom.json',
    'sbom.json.sig',
    'sbom.json.sigstore.json',
  ]);
  // The tree instead of the commit: its own ref, subject gitTree.
  const t = await attest(['--objtype', 'tree', '-f', provenance, '--type', 'custom']);
  assert.equal(t.status, 0, t.stderr);
  const treeEnvelope = JSON.parse(
    await show(`refs/attestations/trees:${tree}/provenance.json.sig`),
  ) as { payload: string };
  assert.deepEqual(
    (JSON.parse(Buffer.from(treeEnvelope.payload, 'base64').toString()) as { subject: unknown })
      .subject,
    [{ digest: { gitTree: tree } }],
  );
  // HEAD's history is untouched, and the attestation commits are not signed.
  assert.equal((await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim(), head);
  assert.doesNotMatch(await show(`${first}`), /gpgsig/);
  const help = await attest(['--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: signet-gitsign attest -f FILE --type URI/);
  // Bad input: one line naming what is wrong, exit 1, nothing written.
  const notJson = file('notes.txt', 'not json');
  const list = file('list.json', '[1, 2]');
  for (const [args, status, message] of [
    [['--type', 'custom'], 1, /--filepath: is required/],
    [['-f', provenance], 1, /--type: is required/],
    [
      ['-f', provenance, '--type', 'custom', '--objtype', 'blob'],
      1,
      /--objtype: "blob" is not commit or tree/,
    ],
    [
      ['-f', notJson, '--type', 'custom'],
      1,
      /--filepath: \S*notes\.txt is not valid JSON \(unexpected "o"\)/,
    ],
    [['-f', list, '--type', 'custom'], 1, /--filepath: \S*list\.json must be a JSON object/],
    [['-f', path.join(dir, 'gone.json'), '--type', 'custom'], 1, /--filepath: .*gone\.json/],
    [['-f', provenance, '--type', 'not a uri'], 1, /--type: "not a uri" is neither/],
    [['-f', provenance, '--type', 'custom', '--oops'], 1, /attest: Unknown option '--oops'/],
  ] as const) {
    const r = await attest([...args]);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^signet: cannot attest: /);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal(
    (await world.git(repo, ['rev-parse', 'refs/attestations/commits'])).stdout.trim(),
    two.stdout.trim(),
  );
  // Outside any repository: said so, not as a commit that HEAD does not name.
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-not-a-repo-'));
  const o = await run(PROGRAM, ['attest', '-f', provenance, '--type', 'custom'], outside, {
    ...world.env,
    SIGSTORE_ID_TOKEN: token,
    GIT_CEILING_DIRECTORIES: path.dirname(outside),
  });
  assert.equal(o.status, 1, o.stderr);
  assert.equal(
    o.stderr,
    `signet: cannot attest: ${outside} is not in a git repository: run signet-gitsign attest in the repository of the commits\n`,
  );
  // Without a name for the attestation commit's author, nothing is signed or logged.
  const size = await treeSize();
  const nobody = Object.fromEntries(
    Object.entries({ ...world.env, SIGSTORE_ID_TOKEN: token }).filter(
      ([k]) => !/^GIT_(AUTHOR|COMMITTER)_/.test(k),
    ),
  );
  const anonymous = await run(PROGRAM, ['attest', '-f', sbom, '--type', 'custom'], repo, nobody);
  assert.equal(anonymous.status, 1);
  assert.match(
    anonymous.stderr,
    /^signet: cannot attest: git cannot name the attestation commit's author .*: set user\.name and user\.email with git config$/m,
  );
  assert.equal(await treeSize(), size);
  // Two at once: the ref moves only from where each read it, so none is lost; one that finds
  // it moved says to run it again.
  const racers = ['a.json', 'b.json', 'c.json'].map((n) => file(n, '{}'));
  const results = await Promise.all(racers.map((f) => attest(['-f', f, '--type', 'custom'])));
  const kept = (await world.git(repo, ['ls-tree', '--name-only', `${ref}:${head}`])).stdout;
  for (const [i, r] of results.entries()) {
    const name = path.basename(racers[i]!);
    if (r.status === 0) assert.ok(kept.split('\n').includes(name), `${name} was kept`);
    else assert.match(r.stderr, /changed while the attestation was written .*run it again/);
  }
  assert.ok(results.some((r) => r.status === 0));
  // Without a token, the credential cache signs it, as it signs commits.
  const cached = await run(PROGRAM, ['attest', '-f', sbom, '--type', 'custom'], repo, world.env);
  assert.equal(cached.status, 0, cached.stderr);
  assert.match(cached.stderr, /^tlog entry created with index: \d+$/m);
  const off = await run(PROGRAM, ['attest', '-f', sbom, '--type', 'custom'], repo, {
    ...world.env,
    SIGNET_CACHE: 'false',
  });
  assert.equal(off.status, 1);
  assert.match(
    off.stderr,
    /^signet: cannot attest: no identity token found: set SIGSTORE_ID_TOKEN, /,
  );
});
