// `signet signing-config create` with cosign's flags: a file built from service specs that a
// client then signs with (against a running stack), a base config with --no-default-*, and
// bad specs refused in one line naming the flag.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tempStack, stackToken } from '../helpers/stack.ts';

const bin = path.resolve('bin/signet');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-sc-'));
let stack: Awaited<ReturnType<typeof tempStack>>;
let base: {
  caUrls: Array<{ url: string }>;
  rekorTlogUrls: Array<{ url: string; majorApiVersion: number }>;
  tsaUrls: Array<{ url: string }>;
  oidcUrls: Array<{ url: string }>;
};

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  stack = await tempStack();
  const text = await (await fetch(`${stack.url}/signing_config.json`)).text();
  fs.writeFileSync(path.join(dir, 'base.json'), text);
  base = JSON.parse(text);
});
after(() => stack?.close());

const T = 'start-time=2024-01-01T00:00:00Z,operator=test';

test('a signing config from flags signs and verifies against the stack', async () => {
  const v1 = base.rekorTlogUrls.find((r) => r.majorApiVersion === 1)!;
  const out = path.join(dir, 'sc.json');
  const r = await run([
    'signing-config',
    'create',
    '--fulcio',
    `url=${base.caUrls[0]!.url},api-version=1,${T}`,
    '--rekor',
    `url=${v1.url},api-version=1,${T}`,
    '--rekor-config',
    'ANY',
    '--tsa',
    `url=${base.tsaUrls[0]!.url},api-version=1,${T},end-time=2099-01-01T00:00:00Z`,
    '--tsa-config',
    'EXACT:1',
    '--oidc-provider',
    `url=${base.oidcUrls[0]!.url},api-version=1,${T}`,
    '--out',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  const sc = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(sc.mediaType, 'application/vnd.dev.sigstore.signingconfig.v0.2+json');
  assert.deepEqual(sc.tsaConfig, { selector: 'EXACT', count: 1 });
  assert.equal(sc.tsaUrls[0].validFor.end, '2099-01-01T00:00:00Z');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello\n');
  const token = await stackToken(stack.url);
  const s = await run([
    'sign-blob',
    '--signing-config',
    out,
    '--identity-token',
    token,
    '--bundle',
    'a.txt.sigstore.json',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  fs.writeFileSync(
    path.join(dir, 'root.json'),
    await (await fetch(`${stack.url}/trusted_root.json`)).text(),
  );
  const v = await run([
    'verify-blob',
    '--trusted-root',
    'root.json',
    '--bundle',
    'a.txt.sigstore.json',
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    `${stack.url}/oidc`,
    'a.txt',
  ]);
  assert.equal(v.status, 0, v.stderr);
});

test('--base-config keeps what no flag replaces; --no-default-* drops a kind', async () => {
  const r = await run([
    'signing-config',
    'create',
    '--base-config',
    'base.json',
    '--no-default-tsa',
    '--rekor',
    `url=https://log.example.com,api-version=2,${T}`,
    '--rekor-config',
    'ALL',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const sc = JSON.parse(r.stdout);
  assert.equal(sc.caUrls[0].url, base.caUrls[0]!.url);
  assert.deepEqual(sc.tsaUrls, []);
  assert.deepEqual(
    sc.rekorTlogUrls.map((x: { url: string }) => x.url),
    ['https://log.example.com'],
  );
  assert.deepEqual(sc.rekorTlogConfig, { selector: 'ALL' });
});

test('each --no-default-<kind> drops its kind and only it (commander files it as defaultKind=false)', async () => {
  const kinds = [
    ['fulcio', 'caUrls'],
    ['rekor', 'rekorTlogUrls'],
    ['oidc', 'oidcUrls'],
    ['tsa', 'tsaUrls'],
  ] as const;
  for (const [kind, field] of kinds) {
    // A config with no rekor left needs one given; any other kind may be empty.
    const rekor =
      kind === 'rekor'
        ? ['--rekor', `url=https://log.example.com,api-version=2,${T}`, '--rekor-config', 'ANY']
        : [];
    const r = await run([
      'signing-config',
      'create',
      '--base-config',
      'base.json',
      `--no-default-${kind}`,
      ...rekor,
    ]);
    assert.equal(r.status, 0, `${kind}: ${r.stderr}`);
    const sc = JSON.parse(r.stdout) as Record<string, Array<{ url: string }>>;
    for (const [, other] of kinds) {
      const want =
        other === field
          ? kind === 'rekor'
            ? ['https://log.example.com']
            : []
          : base[other].map((x) => x.url);
      assert.deepEqual(
        (sc[other] ?? []).map((x) => x.url),
        want,
        `--no-default-${kind}: ${other}`,
      );
    }
  }
});

test('bad specs are refused in one line naming the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--rekor', `url=https://x,api-version=1,${T}`], /--rekor-config: must be given with --rekor/],
    [
      ['--fulcio', 'url=https://x,api-version=1,operator=o'],
      /--fulcio: missing required key "start-time"/,
    ],
    [
      ['--fulcio', `url=https://x,api-version=v1,${T}`],
      /--fulcio api-version: "v1" is not a version number/,
    ],
    [
      ['--fulcio', 'url=https://x,api-version=1,start-time=yesterday,operator=o'],
      /--fulcio start-time: "yesterday" is not an RFC 3339 time/,
    ],
    [['--fulcio', `url=https://x,api-version=1,${T},colour=red`], /--fulcio: unknown key "colour"/],
    [
      ['--tsa', `url=https://x,api-version=1,${T}`, '--tsa-config', 'EXACT'],
      /--tsa-config: mode EXACT requires a count/,
    ],
    [
      ['--tsa', `url=https://x,api-version=1,${T}`, '--tsa-config', 'SOME'],
      /--tsa-config: "SOME" is not ANY, ALL or EXACT/,
    ],
    [
      ['--with-default-rekor-v2'],
      /--with-default-rekor-v2: is not supported: Signet's TUF client reads .*signing_config\.v0\.2\.json, not its signing_config_rekor_v2\.v0\.2\.json; use --with-default-services with --rekor/,
    ],
    [
      ['--with-default-services', '--base-config', 'base.json'],
      /--with-default-services: give either --with-default-services or --base-config, not both/,
    ],
    [[], /give at least one of --fulcio/],
  ];
  for (const [args, re] of cases) {
    const r = await run(['signing-config', 'create', ...args]);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test("--with-default-services starts from the default TUF repository's signing config; flags replace their kind", async () => {
  fs.writeFileSync(
    path.join(dir, 'stack-root.json'),
    await (await fetch(`${stack.url}/tuf/1.root.json`)).text(),
  );
  // The default repository as cosign initialize / TUF_MIRROR set it: here, the stack's.
  const env = {
    TUF_MIRROR: `${stack.url}/tuf`,
    TUF_ROOT_JSON: path.join(dir, 'stack-root.json'),
    SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-sc-tuf-')),
  };
  const all = await run(['signing-config', 'create', '--with-default-services'], env);
  assert.equal(all.status, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout), base);
  const T = 'start-time=2024-01-01T00:00:00Z,operator=example.com';
  const some = await run(
    [
      'signing-config',
      'create',
      '--with-default-services',
      '--no-default-tsa',
      '--fulcio',
      `url=https://ca.example.com,api-version=1,${T}`,
    ],
    env,
  );
  assert.equal(some.status, 0, some.stderr);
  const j = JSON.parse(some.stdout);
  assert.deepEqual(
    j.caUrls.map((c: { url: string }) => c.url),
    ['https://ca.example.com'],
  );
  assert.deepEqual(j.rekorTlogUrls, base.rekorTlogUrls);
  assert.deepEqual(j.oidcUrls, base.oidcUrls);
  assert.equal(j.tsaUrls.length, 0);
});
