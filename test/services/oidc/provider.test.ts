import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { parseProviderConfig } from '../../../src/services/oidc/config.ts';
import { startProvider, type ProviderHarness } from './harness.ts';

let p: ProviderHarness;
before(async () => {
  p = await startProvider({
    devicePollIntervalSeconds: 2,
    identities: [{ flavor: 'email', name: '<b>x</b>@signet.local' }],
    clients: [
      { id: 'sigstore', testGrant: true },
      { id: 'ci', secret: 'ci-secret-123', testGrant: true },
      { id: 'webapp', redirectUris: ['https://app.example/cb'] },
    ],
  });
});
after(async () => p.close());

async function json(r: Response): Promise<Record<string, unknown>> {
  return (await r.json()) as Record<string, unknown>;
}

/** The HTML pages escape everything; read their text back. */
function unescape(html: string): string {
  return html.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

describe('discovery and keys', () => {
  test('each issuer has its own discovery document; all share one JWKS that verifies tokens', async () => {
    for (const [flavor, iss] of [
      ['', p.root],
      ['/github', `${p.root}/github`],
      ['/kubernetes/blue', `${p.root}/kubernetes/blue`],
    ] as const) {
      const d = await json(await fetch(`${p.root}${flavor}/.well-known/openid-configuration`));
      assert.equal(d['issuer'], iss);
      assert.equal(d['token_endpoint'], `${iss}/token`);
      assert.equal(d['device_authorization_endpoint'], `${iss}/device/code`);
      assert.equal(d['jwks_uri'], `${p.root}/jwks`);
      assert.deepEqual(d['code_challenge_methods_supported'], ['S256']);
    }
    const r = await fetch(`${p.root}/kubernetes/a.b/.well-known/openid-configuration`);
    assert.equal(r.status, 400);
    const err = await json(r);
    assert.equal(err['field'], 'cluster');
    assert.equal(err['message'], 'cluster: must match [-_a-zA-Z0-9]{1,63}');
    const jwks = (await json(await fetch(`${p.root}/jwks`))) as { keys: never[] };
    const t = await p.token('email', 'dev@signet.local');
    const { payload, protectedHeader } = await jwtVerify(t, createLocalJWKSet(jwks), {
      issuer: p.root,
      audience: 'sigstore',
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload['email'], 'dev@signet.local');
    assert.equal(payload['email_verified'], true);
  });

  test('rotation publishes the new key and keeps the old one', async () => {
    const before = (await json(await fetch(`${p.root}/jwks`))) as { keys: Array<{ kid: string }> };
    p.mod.provider.rotateKey();
    const after = (await json(await fetch(`${p.root}/jwks`))) as { keys: Array<{ kid: string }> };
    assert.equal(after.keys.length, before.keys.length + 1);
    for (const k of before.keys) assert.ok(after.keys.some((x) => x.kid === k.kid));
  });

  test('signing config names the provider', () => {
    const sc = p.mod.signingConfig!() as {
      oidcUrls: Array<{ url: string; majorApiVersion: number }>;
    };
    assert.equal(sc.oidcUrls[0]!.url, p.root);
    assert.equal(sc.oidcUrls[0]!.majorApiVersion, 1);
  });
});

describe('authorization code + PKCE', () => {
  const redirect = 'http://127.0.0.1:9/cb';
  /** Opens the login page (GET /auth) and returns the id of the login it started. */
  async function login(over: Record<string, string> = {}, challenge = pkce().challenge) {
    const q = new URLSearchParams({
      client_id: 'sigstore',
      redirect_uri: redirect,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st',
      nonce: 'n0',
      ...over,
    });
    const r = await fetch(`${p.root}/auth?${q}`);
    const html = await r.text();
    assert.equal(r.status, 200, unescape(html));
    return /name="login" value="([A-Za-z0-9_-]{43})"/.exec(html)![1]!;
  }
  async function code(over: Record<string, string> = {}) {
    const k = pkce();
    const id = await login(over, k.challenge);
    const r = await p.post('/oidc/auth', { login: id, identity: 'dev@signet.local' });
    assert.equal(r.status, 302, await r.clone().text());
    const loc = new URL(r.headers.get('location')!);
    assert.equal(loc.origin + loc.pathname, over['redirect_uri'] ?? redirect);
    assert.equal(loc.searchParams.get('state'), 'st');
    return { code: loc.searchParams.get('code')!, verifier: k.verifier };
  }
  const redeem = (c: string, verifier: string, over: Record<string, string> = {}) =>
    p.post('/oidc/token', {
      grant_type: 'authorization_code',
      code: c,
      redirect_uri: redirect,
      client_id: 'sigstore',
      code_verifier: verifier,
      ...over,
    });

  test('the login page lists identities, escaped, and the code redeems once', async () => {
    const k = pkce();
    const q = new URLSearchParams({
      client_id: 'sigstore',
      redirect_uri: redirect,
      response_type: 'code',
      code_challenge: k.challenge,
      code_challenge_method: 'S256',
      state: '"><script>',
    });
    const page = await fetch(`${p.root}/auth?${q}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /value="dev@signet.local"/);
    assert.match(html, /&#60;b&#62;x&#60;\/b&#62;@signet.local/);
    assert.doesNotMatch(html, /<script>|<b>x/);
    const c = await code();
    const ok = await redeem(c.code, c.verifier);
    assert.equal(ok.status, 200);
    const body = await json(ok);
    const claims = JSON.parse(
      Buffer.from(String(body['id_token']).split('.')[1]!, 'base64url').toString(),
    );
    assert.equal(claims.nonce, 'n0');
    assert.equal(claims.aud, 'sigstore');
    const again = await redeem(c.code, c.verifier);
    assert.equal(again.status, 400);
    assert.equal((await json(again))['error'], 'invalid_grant');
  });

  test('a wrong code_verifier, redirect_uri or client is refused (and burns the code)', async () => {
    const c = await code();
    const bad = await redeem(c.code, pkce().verifier);
    assert.equal(bad.status, 400);
    assert.match(
      String((await json(bad))['error_description']),
      /does not match the code_challenge/,
    );
    assert.equal((await redeem(c.code, c.verifier)).status, 400);
    const c2 = await code();
    const r2 = await redeem(c2.code, c2.verifier, { redirect_uri: 'http://127.0.0.1:10/cb' });
    assert.match(String((await json(r2))['error_description']), /redirect_uri differs/);
    const c3 = await code();
    const r3 = await redeem(c3.code, c3.verifier, { client_id: 'webapp' });
    assert.match(String((await json(r3))['error_description']), /another client/);
    const r4 = await redeem(c3.code, '');
    assert.equal(r4.status, 400);
  });

  test('PKCE is required, S256 only; redirects must be loopback or registered', async () => {
    const k = pkce();
    const base = {
      client_id: 'sigstore',
      redirect_uri: redirect,
      response_type: 'code',
      code_challenge: k.challenge,
      code_challenge_method: 'S256',
    };
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ code_challenge_method: 'plain' }, /must be S256/],
      [{ code_challenge: '' }, /code_challenge is required/],
      [{ redirect_uri: 'https://evil.example/cb' }, /not registered for client sigstore/],
      [{ client_id: 'nobody' }, /Unknown client_id "nobody"/],
      [{ response_type: 'token' }, /response_type must be "code"/],
    ];
    for (const [over, msg] of cases) {
      const r = await fetch(`${p.root}/auth?${new URLSearchParams({ ...base, ...over })}`);
      assert.equal(r.status, 400, JSON.stringify(over));
      const html = unescape(await r.text());
      assert.match(html, msg);
      assert.doesNotMatch(html, /name="login"/, 'no login is started for a bad request');
    }
    const registered = await code({ client_id: 'webapp', redirect_uri: 'https://app.example/cb' });
    assert.equal(typeof registered.code, 'string');
  });

  test('the login answer: an unknown identity, a missing, unknown, answered or foreign login', async () => {
    const id = await login();
    const bad = await p.post('/oidc/auth', { login: id, identity: 'mallory@signet.local' });
    assert.equal(bad.status, 400);
    assert.match(unescape(await bad.text()), /No email identity named "mallory@signet.local"/);
    // the login is still open after a refused choice; a good one is then accepted once
    const ok = await p.post('/oidc/auth', { login: id, identity: 'dev@signet.local' });
    assert.equal(ok.status, 302);
    const again = await p.post('/oidc/auth', { login: id, identity: 'dev@signet.local' });
    assert.equal(again.status, 400);
    assert.match(unescape(await again.text()), /This sign-in was already answered/);
    const missing = await p.post('/oidc/auth', { identity: 'dev@signet.local' });
    assert.match(unescape(await missing.text()), /Login is missing from the form/);
    const unknown = await p.post('/oidc/auth', { login: 'x'.repeat(43), identity: 'dev' });
    assert.match(unescape(await unknown.text()), /This sign-in is unknown/);
    // a login started at the email issuer cannot be answered at the GitHub one
    const foreign = await p.post('/oidc/github/auth', {
      login: await login(),
      identity: 'signet-dev/demo',
    });
    assert.equal(foreign.status, 400);
    assert.match(unescape(await foreign.text()), /This sign-in is unknown/);
    // the request's parameters in the form are ignored: only the login decides
    const id2 = await login();
    const tampered = await p.post('/oidc/auth', {
      login: id2,
      identity: 'dev@signet.local',
      redirect_uri: 'http://127.0.0.1:10/evil',
      state: 'other',
    });
    const loc = new URL(tampered.headers.get('location')!);
    assert.equal(loc.origin + loc.pathname, redirect);
    assert.equal(loc.searchParams.get('state'), 'st');
  });

  test('cancel sends access_denied with the state back to the client', async () => {
    const r = await p.post('/oidc/auth', { login: await login(), cancel: '1' });
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get('location')!);
    assert.equal(loc.origin + loc.pathname, redirect);
    assert.equal(loc.searchParams.get('error'), 'access_denied');
    assert.equal(loc.searchParams.get('state'), 'st');
    assert.equal(loc.searchParams.get('code'), null);
  });
});

describe('device flow and the test grant', () => {
  test('pending, slow_down, approval, then the token', async () => {
    const start = await json(await p.post('/oidc/device/code', { client_id: 'sigstore' }));
    assert.match(
      String(start['user_code']),
      /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/,
    );
    assert.equal(start['interval'], 2);
    const poll = () =>
      p.post('/oidc/token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: String(start['device_code']),
        client_id: 'sigstore',
      });
    assert.equal((await json(await poll()))['error'], 'authorization_pending');
    assert.equal((await json(await poll()))['error'], 'slow_down');
    const page = await fetch(String(start['verification_uri_complete']));
    assert.match(await page.text(), new RegExp(`value="${String(start['user_code'])}"`));
    const bad = await p.post('/oidc/device', {
      user_code: 'BBBB-BBBB',
      identity: 'dev@signet.local',
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /unknown, already used or expired/);
    const ok = await p.post('/oidc/device', {
      user_code: String(start['user_code']),
      identity: 'dev@signet.local',
    });
    assert.equal(ok.status, 200);
    const done = await poll();
    assert.equal(done.status, 200);
    assert.equal(typeof (await json(done))['id_token'], 'string');
    assert.equal((await json(await poll()))['error'], 'invalid_grant');
  });

  test('test grant: secrets are checked, the grant is per client, subjects must be configured', async () => {
    const grant = (form: Record<string, string>) =>
      p.post('/oidc/token', {
        grant_type: 'client_credentials',
        subject: 'dev@signet.local',
        ...form,
      });
    const ok = await grant({ client_id: 'ci', client_secret: 'ci-secret-123' });
    assert.equal(ok.status, 200);
    const basic = await fetch(`${p.root}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('ci:ci-secret-123').toString('base64')}`,
      },
      body: 'grant_type=client_credentials&subject=dev%40signet.local',
    });
    assert.equal(basic.status, 200);
    const wrong = await grant({ client_id: 'ci', client_secret: 'nope' });
    assert.equal(wrong.status, 401);
    assert.match(
      String((await json(wrong))['error_description']),
      /wrong or missing client_secret/,
    );
    const notAllowed = await grant({ client_id: 'webapp' });
    assert.equal((await json(notAllowed))['error'], 'unauthorized_client');
    const unknownGrant = await p.post('/oidc/token', {
      grant_type: 'password',
      client_id: 'sigstore',
    });
    assert.equal((await json(unknownGrant))['error'], 'unsupported_grant_type');
    const noSubject = await p.post('/oidc/token', {
      grant_type: 'client_credentials',
      client_id: 'ci',
      client_secret: 'ci-secret-123',
    });
    assert.match(
      String((await json(noSubject))['error_description']),
      /subject is required.*dev@signet.local/,
    );
    // A JSON body is read too, by the services' one JSON reader: a parameter twice is refused,
    // naming it (JSON.parse kept the last).
    const asJson = (text: string) =>
      fetch(`${p.root}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
    const once =
      '{"grant_type":"client_credentials","client_id":"ci","client_secret":"ci-secret-123"';
    assert.equal((await asJson(`${once},"subject":"dev@signet.local"}`)).status, 200);
    const twice = await asJson(`${once},"subject":"x@y.z","subject":"dev@signet.local"}`);
    assert.equal(twice.status, 400);
    assert.equal(
      (await json(twice))['message'],
      'request body has the key "subject" twice in one object',
    );
    // The parameters come form-encoded: another body type is named, not read as no parameters.
    for (const [path, type, want] of [
      ['/token', 'text/plain', '"text/plain"'],
      ['/token', 'text/plain; charset=utf-8', '"text/plain"'],
      ['/device/code', 'text/plain', '"text/plain"'],
    ] as const) {
      const r = await fetch(`${p.root}${path}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: 'grant_type=client_credentials&client_id=sigstore&subject=dev%40signet.local',
      });
      assert.equal(r.status, 400, `${path} ${type}`);
      const body = await json(r);
      assert.equal(body['error'], 'invalid_request');
      assert.equal(
        body['error_description'],
        `the request body must be application/x-www-form-urlencoded, not ${want}`,
      );
    }
  });
});

test('provider configuration errors name the field', () => {
  assert.throws(
    () => parseProviderConfig({ identities: [{ flavor: 'myspace', name: 'x' }] }),
    /oidc.identities\[0\].flavor: must be one of/,
  );
  assert.throws(
    () => parseProviderConfig({ identities: [{ flavor: 'github', name: 'norepo' }] }),
    /identities\[0\].name: github identity names look like "owner\/name"/,
  );
  assert.throws(
    () => parseProviderConfig({ clients: [{ id: 'c', secret: 'short' }] }),
    /clients\[0\].secret: must be a string of at least 8/,
  );
  assert.throws(
    () => parseProviderConfig({ tokenLifetimeSeconds: 0 }),
    /tokenLifetimeSeconds: must be an integer from 1/,
  );
  assert.throws(
    () => parseProviderConfig({ loginTimeoutSeconds: 0 }),
    /oidc.loginTimeoutSeconds: must be an integer from 1 to 3600/,
  );
  // the password-less identities stay on only for a real `true` or nothing: "no", "false" and
  // 0 stop the stack instead of leaving them on (a walkthrough found they were kept)
  for (const v of ['no', 'false', 0])
    assert.throws(
      () => parseProviderConfig({ includeDefaultIdentities: v }),
      /^SignetError: oidc\.includeDefaultIdentities: must be true or false \(got /,
    );
  assert.equal(
    parseProviderConfig({ includeDefaultIdentities: false }).identities.some(
      (i) => i.name === 'dev@signet.local',
    ),
    false,
  );
  assert.throws(
    () => parseProviderConfig({ clients: [{ id: 'c', testgrant: true }] }),
    /^SignetError: oidc\.clients\[0\]\.testgrant: unknown key \(known: id, secret, redirectUris, testGrant\)$/,
  );
  assert.throws(
    () => parseProviderConfig({ clients: [{ id: 'c', testGrant: 'yes' }] }),
    /oidc\.clients\[0\]\.testGrant: must be true or false/,
  );
  assert.throws(
    () => parseProviderConfig({ identities: [{ name: 'a@b.example', nmae: 'x' }] }),
    /oidc\.identities\[0\]\.nmae: unknown key \(known: flavor, name, claims\)/,
  );
  const c = parseProviderConfig({});
  assert.ok(c.identities.some((i) => i.flavor === 'email' && i.name === 'dev@signet.local'));
  assert.deepEqual(c.clients, [{ id: 'sigstore', redirectUris: [], testGrant: true }]);
});
