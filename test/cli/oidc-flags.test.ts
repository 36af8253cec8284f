/**
 * sign-blob's sign-in flags (cosign's --oidc-*) against a stack's built-in identity provider on
 * loopback, each checked so that the test fails when the flag is ignored:
 * --oidc-client-id with --oidc-client-secret-file (a confidential client through the device
 * flow: the provider refuses a missing secret, and an unknown client), --oidc-provider (only the
 * named source is asked; a name signet cannot use is refused), and --oidc-redirect-url (the
 * browser sign-in sends that redirect_uri and listens there).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';

const bin = path.resolve('bin/signet');
const openUrl = path.resolve('test/e2e/open-url.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-oidc-flags-'));
const SECRET = 'confidential-s3cret';
let stack: Awaited<ReturnType<typeof tempStack>> | undefined;
let url = '';

interface Run {
  status: number | null;
  stderr: string;
}

/** `signet ARGS`; `onErr` sees stderr as it comes (the device flow's instructions). */
function run(
  args: string[],
  env: Record<string, string> = {},
  onErr: (soFar: string) => void = () => {},
): Promise<Run> {
  return new Promise((resolve) => {
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      SIGNET_TUF_CACHE: path.join(dir, 'tuf'),
      ...env,
    };
    for (const k of [
      'SIGNET_SERVER',
      'SIGSTORE_ID_TOKEN',
      'ACTIONS_ID_TOKEN_REQUEST_URL',
      'BUILDKITE',
    ])
      if (!(k in env)) delete e[k];
    const child = spawn(bin, args, { cwd: dir, env: e, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onErr(stderr);
    });
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** Approves the device code that signet shows, as the person would on the provider's page. */
function approver(): { onErr: (s: string) => void; approved: () => boolean } {
  let done = false;
  return {
    onErr: (s) => {
      const code = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(s)?.[1];
      if (!code || done) return;
      done = true;
      void fetch(`${url}/oidc/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ user_code: code, identity: 'dev@signet.local' }),
      });
    },
    approved: () => done,
  };
}

before(async () => {
  stack = await tempStack({
    config: {
      oidc: {
        devicePollIntervalSeconds: 0,
        // A confidential `sigstore` client (the audience the CA takes), as a private deployment
        // may run it; the test grant (with the secret) stands in for CI's ambient token below.
        clients: [{ id: 'sigstore', secret: SECRET, testGrant: true }],
      },
    },
  });
  url = stack.url;
  fs.writeFileSync(path.join(dir, 'a.txt'), 'oidc flags\n');
  fs.writeFileSync(path.join(dir, 'secret.txt'), `${SECRET}\n`);
  fs.writeFileSync(path.join(dir, 'wrong.txt'), 'not-the-secret\n');
});
after(async () => {
  await stack?.close();
});

test('--oidc-client-id and --oidc-client-secret-file: a confidential client signs in through the device flow', async () => {
  const signIn = (extra: string[], bundle: string) => {
    const a = approver();
    return run(
      [
        'sign-blob',
        '--server',
        url,
        '--fulcio-auth-flow',
        'device',
        '--oidc-issuer',
        `${url}/oidc`,
        ...extra,
        '--bundle',
        bundle,
        'a.txt',
      ],
      {},
      a.onErr,
    ).then((r) => ({ ...r, approved: a.approved() }));
  };
  const ok = await signIn(
    ['--oidc-client-id', 'sigstore', '--oidc-client-secret-file', 'secret.txt'],
    'ok.json',
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.approved);
  const v = await run([
    'verify-blob',
    '--server',
    url,
    '--bundle',
    'ok.json',
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    `${url}/oidc`,
    'a.txt',
  ]);
  assert.equal(v.status, 0, v.stderr);

  // The secret is the one in the file: none, or another, is refused by the provider.
  const none = await signIn(['--oidc-client-id', 'sigstore'], 'none.json');
  assert.equal(none.status, 1, none.stderr);
  assert.match(none.stderr, /client sigstore: wrong or missing client_secret/);
  const wrong = await signIn(
    ['--oidc-client-id', 'sigstore', '--oidc-client-secret-file', 'wrong.txt'],
    'wrong.json',
  );
  assert.equal(wrong.status, 1, wrong.stderr);
  assert.match(wrong.stderr, /wrong or missing client_secret/);
  // The client id is the one given: an unknown one is refused (the default, sigstore, would
  // have failed on its secret instead).
  const other = await signIn(['--oidc-client-id', 'no-such-client'], 'other.json');
  assert.equal(other.status, 1, other.stderr);
  assert.match(other.stderr, /no-such-client/);
  for (const f of ['none.json', 'wrong.json', 'other.json'])
    assert.equal(fs.existsSync(path.join(dir, f)), false, f);
  // A secret file that is not there is named.
  const missing = await signIn(
    ['--oidc-client-id', 'sigstore', '--oidc-client-secret-file', 'absent.txt'],
    'missing.json',
  );
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /--oidc-client-secret-file.*absent\.txt/);
});

test('--oidc-provider: only the named source of a token is asked', async () => {
  // The test grant of the confidential client, with its secret.
  const t = await fetch(`${url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'sigstore',
      client_secret: SECRET,
      subject: 'dev@signet.local',
    }),
  });
  const token = ((await t.json()) as { id_token: string }).id_token;
  assert.equal(t.status, 200);
  let asked = 0;
  const gh = http.createServer((_req, res) => {
    asked++;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ value: token }));
  });
  await new Promise<void>((r) => gh.listen(0, '127.0.0.1', r));
  const env = {
    GITHUB_ACTIONS: 'true',
    ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(gh.address() as AddressInfo).port}/token`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
  };
  const sign = (provider: string, bundle: string) =>
    run(
      ['sign-blob', '--server', url, '--oidc-provider', provider, '--bundle', bundle, 'a.txt'],
      env,
    );
  try {
    const bk = await sign('buildkite-agent', 'bk.json');
    assert.equal(bk.status, 1, bk.stderr);
    assert.match(bk.stderr, /--oidc-provider buildkite-agent: no token is available from it here/);
    assert.equal(asked, 0, 'GitHub Actions was not asked');
    const ghRun = await sign('github-actions', 'gh.json');
    assert.equal(ghRun.status, 0, ghRun.stderr);
    assert.equal(asked, 1);
    const google = await sign('google', 'google.json');
    assert.equal(google.status, 1);
    assert.match(google.stderr, /"google" is not a provider signet can use/);
    assert.equal(asked, 1);
  } finally {
    await new Promise((r) => gh.close(r));
  }
});

test('--oidc-redirect-url: the browser sign-in sends that redirect_uri and listens at it', async () => {
  // A free loopback port for the redirect.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const redirect = `http://127.0.0.1:${port}/signet/done`;

  // The BROWSER command hands the URL to the test, which plays a browser that comes back to the
  // redirect with another sign-in's state: signet must be listening there and refuse it.
  let authorize: URL | undefined;
  let answered: { status: number; body: string } | undefined;
  const sink = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      authorize = new URL(body);
      res.end();
      void fetch(`${redirect}?state=not-this-run&code=x`).then(async (r) => {
        answered = { status: r.status, body: await r.text() };
      });
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  try {
    const r = await run(
      [
        'sign-blob',
        '--server',
        url,
        '--oidc-redirect-url',
        redirect,
        '--bundle',
        'br.json',
        'a.txt',
      ],
      {
        SIGNET_SIGN_IN: 'browser',
        BROWSER: `${process.execPath} ${openUrl}`,
        SIGNET_E2E_URL_SINK: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`,
      },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.ok(authorize, 'the browser was given the sign-in URL');
    assert.equal(authorize.searchParams.get('redirect_uri'), redirect);
    assert.match(r.stderr, /the browser came back with the wrong state/);
    assert.equal(answered?.status, 400);
    assert.match(answered!.body, /does not belong to this signet run/);
    // not a loopback URL: refused before anything is asked
    const far = await run(
      [
        'sign-blob',
        '--server',
        url,
        '--oidc-redirect-url',
        'http://example.com/cb',
        '--bundle',
        'far.json',
        'a.txt',
      ],
      { SIGNET_SIGN_IN: 'browser' },
    );
    assert.equal(far.status, 1);
    assert.match(
      far.stderr,
      /--oidc-redirect-url: "http:\/\/example\.com\/cb" must be an http URL on this machine/,
    );
  } finally {
    sink.close();
    sink.closeAllConnections();
  }
});
