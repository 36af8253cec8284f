import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { SignetError } from '../../../src/core/errors.ts';
import { getIdentityToken, type IdentityTokenOptions } from '../../../src/client/identity/index.ts';
import { browserCommand, browserFlow, discover } from '../../../src/client/identity/interactive.ts';
import { startProvider, type ProviderHarness } from '../../services/oidc/harness.ts';

let p: ProviderHarness;
before(async () => {
  p = await startProvider({ devicePollIntervalSeconds: 0 });
});
after(async () => p.close());

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'signet-idc-'));

async function fails(o: IdentityTokenOptions, code: string, msg: RegExp): Promise<void> {
  await assert.rejects(getIdentityToken(o), (e: unknown) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, msg);
    return true;
  });
}

function payload(t: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

describe('explicit tokens', () => {
  test('--identity-token as a value and as a file', async () => {
    const t = await p.token('email', 'dev@signet.local');
    const a = await getIdentityToken({ identityToken: t, env: {} });
    assert.equal(a.token, t);
    assert.equal(a.source, '--identity-token');
    assert.equal(a.info.email, 'dev@signet.local');
    const f = path.join(tmp(), 'token');
    fs.writeFileSync(f, `${t}\n`);
    assert.equal((await getIdentityToken({ identityToken: f, env: {} })).token, t);
  });

  test('SIGSTORE_ID_TOKEN', async () => {
    const t = await p.token('email', 'dev@signet.local');
    const a = await getIdentityToken({ env: { SIGSTORE_ID_TOKEN: t } });
    assert.equal(a.token, t);
    assert.equal(a.source, 'SIGSTORE_ID_TOKEN');
  });

  test('bad explicit tokens say what is wrong', async () => {
    await fails({ identityToken: '  ', env: {} }, 'NO_IDENTITY_TOKEN', /--identity-token is empty/);
    await fails(
      { identityToken: '/no/such/file', env: {} },
      'NO_IDENTITY_TOKEN',
      /neither a JWT nor a readable file/,
    );
    await fails(
      { env: { SIGSTORE_ID_TOKEN: '' } },
      'NO_IDENTITY_TOKEN',
      /SIGSTORE_ID_TOKEN is set but empty/,
    );
    const t = await p.token('email', 'dev@signet.local');
    const later = new Date(Date.now() + 3600_000);
    await fails(
      { identityToken: t, env: {}, now: later },
      'TOKEN_EXPIRED',
      /from --identity-token expired at .* \(\d+ minutes ago\); get a fresh one/,
    );
    const other = await p.token('email', 'dev@signet.local', { audience: 'elsewhere' });
    await fails(
      { identityToken: other, env: {} },
      'TOKEN_AUDIENCE',
      /audience \["elsewhere"\].*expects "sigstore"/,
    );
    const f = path.join(tmp(), 'garbage');
    fs.writeFileSync(f, 'not a token');
    await fails({ identityToken: f, env: {} }, 'TOKEN_MALFORMED', /is not a JWT/);
    // Three parts, the signature empty: said so, not "not three parts"
    const [h, body] = t.split('.') as [string, string];
    await fails(
      { identityToken: `${h}.${body}.`, env: {} },
      'TOKEN_MALFORMED',
      /^the identity token from --identity-token is not a JWT: its signature \(the third of its three parts\) is empty$/,
    );
  });

  test('nothing found, not interactive: one message listing the ways', async () => {
    await fails(
      { env: {}, interactive: 'never' },
      'NO_IDENTITY_TOKEN',
      /--identity-token.*SIGSTORE_ID_TOKEN.*GitHub Actions/,
    );
  });
});

describe('ambient CI credentials', () => {
  test('GitHub Actions: bearer token and audience to ACTIONS_ID_TOKEN_REQUEST_URL', async () => {
    const token = await p.token('github', 'signet-dev/demo');
    const seen: Array<{ auth?: string; audience: string | null }> = [];
    const gh = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      seen.push({ auth: req.headers.authorization, audience: u.searchParams.get('audience') });
      if (req.headers.authorization !== 'bearer runtime-secret') {
        res.writeHead(401).end('{"message":"bad credentials"}');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ value: token }));
    });
    await new Promise<void>((r) => gh.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gh.address() as AddressInfo).port}/token?api-version=2.0`;
    try {
      const got = await getIdentityToken({
        env: {
          ACTIONS_ID_TOKEN_REQUEST_URL: url,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-secret',
        },
      });
      assert.equal(got.token, token);
      assert.equal(got.source, 'GitHub Actions');
      assert.deepEqual(seen[0], { auth: 'bearer runtime-secret', audience: 'sigstore' });
      assert.equal(payload(got.token)['repository'], 'signet-dev/demo');
      await fails(
        { env: { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' } },
        'NO_IDENTITY_TOKEN',
        /answered HTTP 401/,
      );
    } finally {
      gh.close();
    }
    await fails(
      { env: { GITHUB_ACTIONS: 'true' } },
      'NO_IDENTITY_TOKEN',
      /permissions: id-token: write/,
    );
    await fails(
      { env: { ACTIONS_ID_TOKEN_REQUEST_URL: url } },
      'NO_IDENTITY_TOKEN',
      /ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set/,
    );
  });

  test("GitHub Actions: the token request loads no undici (a CI signer's start-up)", async () => {
    const token = await p.token('github', 'signet-dev/demo');
    const gh = http.createServer((_req, res) => res.end(JSON.stringify({ value: token })));
    await new Promise<void>((r) => gh.listen(0, '127.0.0.1', r));
    const module = new URL('../../../src/client/identity/index.ts', import.meta.url).href;
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(gh.address() as AddressInfo).port}/t`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-secret',
    };
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--input-type=module',
        '-e',
        `const { getIdentityToken } = await import(${JSON.stringify(module)});
         const got = await getIdentityToken({ env: ${JSON.stringify(env)} });
         console.log(JSON.stringify({ token: got.token, undici: process.moduleLoadList.filter((m) => /undici/.test(m)) }));`,
      ]);
      assert.deepEqual(JSON.parse(stdout), { token, undici: [] });
    } finally {
      gh.close();
    }
  });

  test('GitLab CI: SIGSTORE_ID_TOKEN from id_tokens, else a how-to', async () => {
    const t = await p.token('gitlab', 'signet-dev/demo');
    assert.equal(
      (await getIdentityToken({ env: { GITLAB_CI: 'true', SIGSTORE_ID_TOKEN: t } })).token,
      t,
    );
    await fails(
      { env: { GITLAB_CI: 'true' } },
      'NO_IDENTITY_TOKEN',
      /add `id_tokens: \{SIGSTORE_ID_TOKEN: \{aud: sigstore\}\}` to the job$/,
    );
  });

  test('Buildkite: runs buildkite-agent oidc request-token --audience sigstore', async () => {
    const token = await p.token('buildkite', 'signet-dev/demo');
    const dir = tmp();
    const agent = path.join(dir, 'buildkite-agent');
    const argsFile = path.join(dir, 'args');
    fs.writeFileSync(agent, `#!/bin/sh\necho "$@" > '${argsFile}'\necho '${token}'\n`, {
      mode: 0o755,
    });
    const got = await getIdentityToken({ env: { BUILDKITE: 'true' }, buildkiteAgent: agent });
    assert.equal(got.token, token);
    assert.equal(got.source, 'Buildkite');
    assert.equal(
      fs.readFileSync(argsFile, 'utf8').trim(),
      'oidc request-token --audience sigstore',
    );
    const failing = path.join(dir, 'failing-agent');
    fs.writeFileSync(failing, '#!/bin/sh\necho "no oidc for you" >&2\nexit 3\n', { mode: 0o755 });
    await fails(
      { env: { BUILDKITE: 'true' }, buildkiteAgent: failing },
      'NO_IDENTITY_TOKEN',
      /exit 3\): no oidc for you/,
    );
    await fails(
      { env: { BUILDKITE: 'true' }, buildkiteAgent: path.join(dir, 'missing') },
      'NO_IDENTITY_TOKEN',
      /cannot run .*missing/,
    );
  });
});

describe('interactive sign-in against the built-in provider', () => {
  // The browser flow is tested with a real browser in test/e2e/sign-in.test.ts.

  test('device flow: the person approves on another device while the client polls', async () => {
    const said: string[] = [];
    const approved = new Promise<void>((resolve, reject) => {
      const sayer = async (m: string) => {
        said.push(m);
        const code = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(m)?.[1];
        if (!code) return;
        const r = await p.post('/oidc/device', {
          user_code: code.toLowerCase(),
          identity: 'dev@signet.local',
        });
        if (r.status !== 200) reject(new Error(`approve: ${r.status}`));
        else resolve();
      };
      deviceSay = (m) => void sayer(m).catch(reject);
    });
    const got = await getIdentityToken({
      env: {},
      server: p.url,
      interactive: 'device',
      say: (m) => deviceSay(m),
    });
    await approved;
    assert.equal(got.info.email, 'dev@signet.local');
    assert.match(said[0]!, new RegExp(`open ${p.root}/device and enter the code`));
  });

  test("discovery follows the provider's redirects (as fetch did), up to five", async () => {
    // A front that moves the discovery document to the provider, and one that loops.
    const front = http.createServer((req, res) => {
      const to = req.url!.startsWith('/loop')
        ? '/loop/.well-known/openid-configuration'
        : `${p.root}/.well-known/openid-configuration`;
      res.writeHead(req.url!.startsWith('/loop') ? 307 : 301, { location: to }).end();
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    try {
      const d = await discover(`${at}/moved`, 2000);
      assert.equal(d.token_endpoint, `${p.root}/token`);
      await assert.rejects(discover(`${at}/loop`, 2000), {
        code: 'OIDC_UNREACHABLE',
        message: `the identity provider's discovery document at ${at}/loop/.well-known/openid-configuration redirects more than 5 times`,
      });
    } finally {
      front.close();
    }
  });

  test('device flow: a denial is reported as such', async () => {
    await fails(
      {
        env: {},
        server: p.url,
        interactive: 'device',
        say: (m) => {
          const code = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(m)?.[1];
          if (code) void p.post('/oidc/device', { user_code: code, deny: '1' });
        },
      },
      'OIDC_DENIED',
      /denied/,
    );
  });

  test('interactive without any provider to ask', async () => {
    await fails(
      { env: {}, interactive: 'device' },
      'NO_IDENTITY_TOKEN',
      /--server URL or --oidc-issuer/,
    );
    await fails(
      { env: {}, interactive: 'device', issuer: 'http://127.0.0.1:1/oidc', timeoutMs: 2000 },
      'OIDC_UNREACHABLE',
      // the reason, not undici's "fetch failed"
      /^cannot reach the identity provider at http:\/\/127\.0\.0\.1:1\/oidc\/\.well-known\/openid-configuration: nothing is listening/,
    );
  });
});

let deviceSay: (m: string) => void = () => {};

describe('choosing how to ask a person', () => {
  test('SIGNET_SIGN_IN says the mode when the caller does not; a bad value is named', async () => {
    // in a terminal too: the reason no one is asked is the variable, and it says so
    await fails(
      { env: { SIGNET_SIGN_IN: 'never' }, server: p.url },
      'NO_IDENTITY_TOKEN',
      /^no identity token found: .*, or sign in \(SIGNET_SIGN_IN=never turns signing in off\)$/,
    );
    await fails(
      { env: { SIGNET_SIGN_IN: 'sometimes' }, server: p.url },
      'INVALID_INPUT',
      /^SIGNET_SIGN_IN: "sometimes" is not one of auto, browser, device, never$/,
    );
    // not consulted when a token is at hand
    const t = await p.token('email', 'dev@signet.local');
    const got = await getIdentityToken({ identityToken: t, env: { SIGNET_SIGN_IN: 'sometimes' } });
    assert.equal(got.token, t);
    // the caller's choice wins over the environment: it goes on to ask the provider
    await fails(
      {
        env: { SIGNET_SIGN_IN: 'never' },
        issuer: 'http://127.0.0.1:1/oidc',
        interactive: 'device',
        timeoutMs: 2000,
      },
      'OIDC_UNREACHABLE',
      /cannot reach the identity provider/,
    );
  });

  test('BROWSER: the first command, %s for the URL or the URL last, no shell', async () => {
    const got: string[] = [];
    const sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        got.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const env = {
      ...process.env,
      SIGNET_E2E_URL_SINK: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`,
    };
    const script = path.resolve('test/e2e/open-url.ts');
    const url = 'http://127.0.0.1:1/oidc/auth?a=1&b=$(touch x);c';
    const said: string[] = [];
    const prev = process.env.SIGNET_E2E_URL_SINK;
    process.env.SIGNET_E2E_URL_SINK = env.SIGNET_E2E_URL_SINK;
    try {
      browserCommand(`${process.execPath} ${script}${path.delimiter}/no/such/second`, (m) =>
        said.push(m),
      )!(url);
      browserCommand(`  ${process.execPath} ${script} %s  `, (m) => said.push(m))!(`${url}&2`);
      for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(got.sort(), [url, `${url}&2`]);
      browserCommand('/no/such/browser --new-window', (m) => said.push(m))!(url);
      for (let i = 0; i < 100 && said.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(
        said[0]!,
        /The browser command from BROWSER \(\/no\/such\/browser\) did not start: \/no\/such\/browser does not exist; check the path\. Open the URL yourself/,
      );
      assert.equal(
        browserCommand(` ${path.delimiter} `, () => {}),
        undefined,
      );
    } finally {
      if (prev === undefined) delete process.env.SIGNET_E2E_URL_SINK;
      else process.env.SIGNET_E2E_URL_SINK = prev;
      sink.close();
      sink.closeAllConnections();
    }
  });
});

test('browser sign-in: the ID token must carry the nonce of this sign-in (OIDC Core 3.1.3.7); missing, foreign or unreadable claims are refused', async () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  let claims: (nonce: string) => string = () => '';
  let sentNonce = '';
  const idp = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', issuer);
    res.writeHead(200, { 'content-type': 'application/json' });
    if (u.pathname === '/.well-known/openid-configuration')
      res.end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
        }),
      );
    else res.end(JSON.stringify({ id_token: `${b64({ alg: 'none' })}.${claims(sentNonce)}.sig` }));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const signIn = () =>
    browserFlow({
      issuer,
      clientId: 'sigstore',
      say: () => {},
      timeoutMs: 5000,
      openBrowser: async (url) => {
        const a = new URL(url);
        sentNonce = a.searchParams.get('nonce') ?? '';
        const back = new URL(a.searchParams.get('redirect_uri') ?? '');
        back.searchParams.set('code', 'c');
        back.searchParams.set('state', a.searchParams.get('state') ?? '');
        await (await fetch(back)).text();
      },
    });
  try {
    claims = (n) => b64({ sub: 's', nonce: n });
    assert.match(await signIn(), /\.sig$/);
    for (const [what, c] of [
      ['no nonce', () => b64({ sub: 's' })],
      ['another nonce', () => b64({ sub: 's', nonce: 'other' })],
      ['null claims', () => b64(null)],
      ['not JSON', () => Buffer.from('{').toString('base64url')],
    ] as const) {
      claims = c;
      await assert.rejects(signIn(), (e: unknown) => {
        assert.ok(e instanceof SignetError, `${what}: ${String(e)}`);
        assert.equal(e.code, 'OIDC_ERROR', what);
        assert.match(e.message, /nonce/, what);
        return true;
      });
    }
  } finally {
    idp.close();
    idp.closeAllConnections();
  }
});
