import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { SignetError } from '../../../../src/core/errors.ts';
import { KeyRing } from '../../../../src/services/keyring.ts';
import { createIdentityVerifier } from '../../../../src/services/ca/identity/verifier.ts';
import { parseIssuerConfig } from '../../../../src/services/ca/identity/config.ts';
import { defaultCaIssuerConfig } from '../../../../src/services/oidc/ca-issuers.ts';
import { startProvider, type ProviderHarness } from '../../oidc/harness.ts';

// Real tokens from the built-in provider over loopback HTTP, verified by the CA's verifier
// (which fetches discovery + JWKS over HTTP too).

const GH = {
  sub: 'repo:octo-org/octo-repo:environment:prod',
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  repository_owner_id: '111',
  repository_id: '222',
  repository_visibility: 'private',
  ref: 'refs/tags/v1.2.3',
  sha: 'a'.repeat(40),
  workflow: 'Release',
  event_name: 'release',
  job_workflow_ref: 'octo-org/reusable/.github/workflows/build.yml@refs/tags/v2',
  job_workflow_sha: 'b'.repeat(40),
  workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.2.3',
  workflow_sha: 'c'.repeat(40),
  run_id: '333',
  run_attempt: '2',
  runner_environment: 'self-hosted',
  environment: 'prod',
};
const GL = {
  project_path: 'grp/proj',
  namespace_path: 'grp',
  namespace_id: '10',
  project_id: '20',
  ci_config_ref_uri: 'gitlab.com/grp/proj//.gitlab-ci.yml@refs/tags/v1',
  ci_config_sha: 'd'.repeat(40),
  sha: 'e'.repeat(40),
  ref: 'v1',
  ref_type: 'tag',
  pipeline_source: 'web',
  job_id: '30',
  runner_environment: 'self-hosted',
  project_visibility: 'internal',
};
const BK = {
  organization_slug: 'acme',
  pipeline_slug: 'widgets',
  build_number: 42,
  job_id: 'j-1',
  build_commit: 'f'.repeat(40),
  build_source: 'webhook',
  runner_environment: 'self-hosted',
};

let p: ProviderHarness;
let other: ProviderHarness;
let verifier: ReturnType<typeof createIdentityVerifier>;

before(async () => {
  p = await startProvider({
    identities: [
      { flavor: 'github', name: 'octo-org/octo-repo', claims: GH },
      { flavor: 'gitlab', name: 'grp/proj', claims: GL },
      { flavor: 'buildkite', name: 'acme/widgets', claims: BK },
      { flavor: 'spiffe', name: 'ns/prod/web' },
      { flavor: 'spiffe', name: 'foreign', claims: { sub: 'spiffe://other.domain/x' } },
      { flavor: 'kubernetes', name: 'payments/signer' },
      { flavor: 'uri', name: 'evil', claims: { sub: 'http://evil.example/users/x' } },
      { flavor: 'username', name: 'bang', claims: { sub: 'a!b' } },
      { flavor: 'email', name: 'new@signet.local', claims: { email_verified: false } },
      {
        flavor: 'email',
        name: 'fed@signet.local',
        claims: { federated_claims: { connector_id: 'https://github.com/login/oauth' } },
      },
    ],
  });
  other = await startProvider();
  verifier = createIdentityVerifier(defaultCaIssuerConfig(p.url), { refreshCooldownMs: 0 });
});
after(async () => {
  await p.close();
  await other.close();
});

async function rejects(token: string, code: string, message: RegExp): Promise<void> {
  await assert.rejects(verifier.verify(token), (e: unknown) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.kind, 'unauthorized');
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

describe("each issuer type gives Fulcio's principal", () => {
  test('email: rfc822 SAN, challenge is the email, issuer and subject extensions', async () => {
    const t = await p.token('email', 'dev@signet.local');
    const pr = await verifier.verify(t);
    assert.deepEqual(pr.san, { type: 'email', value: 'dev@signet.local' });
    assert.equal(pr.challenge, 'dev@signet.local');
    assert.equal(pr.issuer, p.root);
    assert.deepEqual(pr.extensions, { 1: p.root, 8: p.root, 24: claimsOf(t)['sub'] });
  });

  test('github-workflow via ci-provider templates: SAN and extensions .1-.24', async () => {
    const t = await p.token('github', 'octo-org/octo-repo');
    const pr = await verifier.verify(t);
    const iss = `${p.root}/github`;
    assert.deepEqual(pr.san, {
      type: 'uri',
      value: 'https://github.com/octo-org/reusable/.github/workflows/build.yml@refs/tags/v2',
    });
    assert.equal(pr.challenge, GH.sub);
    assert.equal(pr.subject, GH.sub);
    assert.deepEqual(pr.extensions, {
      1: iss,
      2: 'release',
      3: 'a'.repeat(40),
      4: 'Release',
      5: 'octo-org/octo-repo',
      6: 'refs/tags/v1.2.3',
      8: iss,
      9: 'https://github.com/octo-org/reusable/.github/workflows/build.yml@refs/tags/v2',
      10: 'b'.repeat(40),
      11: 'self-hosted',
      12: 'https://github.com/octo-org/octo-repo',
      13: 'a'.repeat(40),
      14: 'refs/tags/v1.2.3',
      15: '222',
      16: 'https://github.com/octo-org',
      17: '111',
      18: 'https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.2.3',
      19: 'c'.repeat(40),
      20: 'release',
      21: 'https://github.com/octo-org/octo-repo/actions/runs/333/attempts/2',
      22: 'private',
      23: 'prod',
      24: GH.sub,
    });
  });

  test('github without an environment claim has no .23 (optional, default "")', async () => {
    const t = await p.token('github', 'signet-dev/demo');
    const pr = await verifier.verify(t);
    const c = claimsOf(t);
    assert.equal(pr.extensions[23], undefined);
    assert.equal(pr.extensions[9], `https://github.com/${String(c['job_workflow_ref'])}`);
    assert.equal(pr.extensions[24], 'repo:signet-dev/demo:ref:refs/heads/main');
  });

  test('gitlab-pipeline: https SAN from ci_config_ref_uri, tag ref, job URL', async () => {
    const t = await p.token('gitlab', 'grp/proj');
    const pr = await verifier.verify(t);
    const iss = `${p.root}/gitlab`;
    const san = 'https://gitlab.com/grp/proj//.gitlab-ci.yml@refs/tags/v1';
    assert.deepEqual(pr.san, { type: 'uri', value: san });
    const sub = String(claimsOf(t)['sub']);
    assert.equal(sub, 'project_path:grp/proj:ref_type:tag:ref:v1');
    assert.deepEqual(pr.extensions, {
      1: iss,
      8: iss,
      9: san,
      10: 'd'.repeat(40),
      11: 'self-hosted',
      12: 'https://gitlab.com/grp/proj',
      13: 'e'.repeat(40),
      14: 'refs/tags/v1',
      15: '20',
      16: 'https://gitlab.com/grp',
      17: '10',
      18: san,
      19: 'd'.repeat(40),
      20: 'web',
      21: 'https://gitlab.com/grp/proj/-/jobs/30',
      22: 'internal',
      24: sub,
    });
    const branch = await verifier.verify(await p.token('gitlab', 'signet-dev/demo'));
    assert.equal(branch.extensions[14], 'refs/heads/main');
  });

  test('buildkite-job: pipeline SAN, numeric build_number printed as an integer', async () => {
    const t = await p.token('buildkite', 'acme/widgets');
    const pr = await verifier.verify(t);
    const iss = `${p.root}/buildkite`;
    assert.deepEqual(pr.san, { type: 'uri', value: 'https://buildkite.com/acme/widgets' });
    assert.deepEqual(pr.extensions, {
      1: iss,
      8: iss,
      11: 'self-hosted',
      13: 'f'.repeat(40),
      20: 'webhook',
      21: 'https://buildkite.com/acme/widgets/builds/42#j-1',
      24: claimsOf(t)['sub'],
    });
  });

  test('spiffe: URI SAN = sub in the configured trust domain; others refused', async () => {
    const pr = await verifier.verify(await p.token('spiffe', 'ns/prod/web'));
    assert.deepEqual(pr.san, { type: 'uri', value: 'spiffe://signet.local/ns/prod/web' });
    assert.equal(pr.challenge, 'spiffe://signet.local/ns/prod/web');
    await rejects(
      await p.token('spiffe', 'foreign'),
      'TOKEN_CLAIMS',
      /trust domain "other.domain".*"signet.local"/,
    );
  });

  test('kubernetes through the meta-issuer <root>/kubernetes/*', async () => {
    const r = await p.post('/oidc/kubernetes/blue/token', {
      grant_type: 'client_credentials',
      client_id: 'sigstore',
      subject: 'payments/signer',
    });
    assert.equal(r.status, 200);
    const t = ((await r.json()) as { id_token: string }).id_token;
    const pr = await verifier.verify(t);
    assert.equal(pr.issuer, `${p.root}/kubernetes/blue`);
    assert.deepEqual(pr.san, {
      type: 'uri',
      value: 'https://kubernetes.io/namespaces/payments/serviceaccounts/signer',
    });
    assert.equal(pr.challenge, 'system:serviceaccount:payments:signer');
    assert.equal(pr.extensions[8], `${p.root}/kubernetes/blue`);
  });

  test('uri: SAN = sub on the subject domain; another host refused', async () => {
    const pr = await verifier.verify(await p.token('uri', 'dev'));
    assert.deepEqual(pr.san, { type: 'uri', value: `${p.url}/users/dev` });
    await rejects(await p.token('uri', 'evil'), 'TOKEN_CLAIMS', /host \(evil.example\) must match/);
  });

  test('username: OtherName SAN sub!domain; "!" in sub refused', async () => {
    const pr = await verifier.verify(await p.token('username', 'dev'));
    assert.deepEqual(pr.san, { type: 'username', value: 'dev!127.0.0.1' });
    assert.equal(pr.challenge, 'dev');
    await rejects(await p.token('username', 'bang'), 'TOKEN_CLAIMS', /must not contain "!"/);
  });
});

describe('time claims at their exact boundaries (RFC 7519 §4.1.4-4.1.6, clock skew)', () => {
  // A verifier whose clock stands still at T, so each boundary is hit to the second.
  const T = Math.floor(Date.now() / 1000);
  const at = (skew?: number) =>
    createIdentityVerifier(defaultCaIssuerConfig(p.url), {
      refreshCooldownMs: 0,
      now: () => new Date(T * 1000),
      ...(skew === undefined ? {} : { clockSkewSeconds: skew }),
    });
  const mint = (claims: { iat: number; nbf?: number; exp: number }) =>
    p.mod.provider.mint(
      p.mod.provider.issuer('email'),
      p.mod.provider.findIdentity('email', 'dev@signet.local'),
      'sigstore',
      { issuedAt: claims.iat, claims: { nbf: claims.nbf, exp: claims.exp } },
    );
  async function outcome(v: ReturnType<typeof at>, token: string): Promise<string> {
    try {
      await v.verify(token);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof SignetError, String(e));
      return `${e.code}: ${e.message}`;
    }
  }

  test('exp: the token is good only before exp; the skew extends that by exactly its length', async () => {
    const strict = at(0);
    const iat = T - 600;
    assert.equal(await outcome(strict, await mint({ iat, exp: T + 1 })), 'ok');
    // "the current date/time MUST be before the expiration date/time listed in the exp claim"
    assert.equal(
      await outcome(strict, await mint({ iat, exp: T })),
      `TOKEN_EXPIRED: the token expired at ${new Date(T * 1000).toISOString()} (0 s ago; allowed clock skew 0 s)`,
    );
    const lenient = at(); // the default skew, 60 s
    assert.equal(await outcome(lenient, await mint({ iat, exp: T })), 'ok');
    assert.equal(await outcome(lenient, await mint({ iat, exp: T - 59 })), 'ok');
    assert.equal(
      await outcome(lenient, await mint({ iat, exp: T - 60 })),
      `TOKEN_EXPIRED: the token expired at ${new Date((T - 60) * 1000).toISOString()} (60 s ago; allowed clock skew 60 s)`,
    );
  });

  test('nbf: good from nbf on; a future nbf within the skew passes, one second beyond fails', async () => {
    const exp = T + 600;
    assert.equal(await outcome(at(0), await mint({ iat: T, nbf: T, exp })), 'ok');
    assert.match(
      await outcome(at(0), await mint({ iat: T, nbf: T + 1, exp })),
      /^TOKEN_NOT_YET_VALID: the token is not valid before .* \(1 s from now; allowed clock skew 0 s\)$/,
    );
    assert.equal(await outcome(at(), await mint({ iat: T, nbf: T + 60, exp })), 'ok');
    assert.equal(
      await outcome(at(), await mint({ iat: T, nbf: T + 61, exp })),
      `TOKEN_NOT_YET_VALID: the token is not valid before ${new Date((T + 61) * 1000).toISOString()} (61 s from now; allowed clock skew 60 s)`,
    );
  });

  test('iat: a future iat within the skew passes, one second beyond fails', async () => {
    const exp = T + 600;
    assert.equal(await outcome(at(), await mint({ iat: T + 60, exp })), 'ok');
    assert.equal(
      await outcome(at(), await mint({ iat: T + 61, exp })),
      `TOKEN_ISSUED_IN_FUTURE: the token claims to be issued at ${new Date((T + 61) * 1000).toISOString()}, 61 s in the future (allowed clock skew 60 s)`,
    );
    assert.match(
      await outcome(at(0), await mint({ iat: T + 1, exp })),
      /^TOKEN_ISSUED_IN_FUTURE: .* 1 s in the future \(allowed clock skew 0 s\)$/,
    );
  });
});

describe('bad tokens are refused, saying which check failed', () => {
  const emailIssuer = () => p.mod.provider.issuer('email');
  const dev = () => p.mod.provider.findIdentity('email', 'dev@signet.local');
  const now = () => Math.floor(Date.now() / 1000);

  test('expired', async () => {
    const t = await p.mod.provider.mint(emailIssuer(), dev(), 'sigstore', {
      issuedAt: now() - 3600,
      lifetimeSeconds: 600,
    });
    await rejects(t, 'TOKEN_EXPIRED', /expired at .* s ago; allowed clock skew 60 s/);
  });

  test('not yet valid (nbf in the future)', async () => {
    const t = await p.mod.provider.mint(emailIssuer(), dev(), 'sigstore', {
      issuedAt: now() + 3600,
    });
    await rejects(t, 'TOKEN_NOT_YET_VALID', /not valid before/);
  });

  test('issued in the future (iat beyond the clock skew)', async () => {
    const t = await p.mod.provider.mint(emailIssuer(), dev(), 'sigstore', {
      issuedAt: now() + 600,
      claims: { nbf: undefined },
    });
    await rejects(t, 'TOKEN_ISSUED_IN_FUTURE', /in the future/);
  });

  test('a small clock difference is tolerated', async () => {
    const t = await p.mod.provider.mint(emailIssuer(), dev(), 'sigstore', { issuedAt: now() + 20 });
    assert.equal((await verifier.verify(t)).challenge, 'dev@signet.local');
  });

  test('forged: payload altered after signing', async () => {
    const t = await p.token('email', 'dev@signet.local');
    const [h, , s] = t.split('.');
    const claims = { ...claimsOf(t), email: 'ceo@signet.local' };
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    await rejects(forged, 'TOKEN_SIGNATURE', /does not verify.*forged or altered/);
  });

  test("forged: signed by another key under the provider's kid", async () => {
    const t = await p.token('email', 'dev@signet.local');
    const kid = JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid as string;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await new SignJWT(claimsOf(t))
      .setProtectedHeader({ alg: 'ES256', kid })
      .sign(privateKey);
    await rejects(forged, 'TOKEN_SIGNATURE', /does not verify/);
  });

  test('a kid the issuer does not publish', async () => {
    const t = await p.token('email', 'dev@signet.local');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await new SignJWT(claimsOf(t))
      .setProtectedHeader({ alg: 'ES256', kid: 'not-a-key' })
      .sign(privateKey);
    await rejects(forged, 'TOKEN_KEY_UNKNOWN', /kid "not-a-key".*does not publish/);
  });

  test('wrong audience', async () => {
    const t = await p.token('email', 'dev@signet.local', { audience: 'not-sigstore' });
    await rejects(
      t,
      'TOKEN_AUDIENCE',
      /audience is "not-sigstore", but this CA expects "sigstore"/,
    );
  });

  test('unknown issuer (another provider)', async () => {
    const t = await other.token('email', 'dev@signet.local');
    await rejects(t, 'UNKNOWN_ISSUER', new RegExp(`"${other.root}" is not trusted`));
  });

  test('meta-issuer wildcard does not match across segments or dots', async () => {
    for (const iss of [
      `${p.root}/kubernetes/a.b`,
      `${p.root}/kubernetes/a/b`,
      `${p.root}/kubernetes/`,
    ]) {
      const t = await p.mod.provider.mint(emailIssuer(), dev(), 'sigstore', { claims: { iss } });
      await rejects(t, 'UNKNOWN_ISSUER', /is not trusted/);
    }
  });

  test('alg "none" (unsigned)', async () => {
    const t = await p.token('email', 'dev@signet.local');
    const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await rejects(`${h}.${t.split('.')[1]}.`, 'TOKEN_ALGORITHM', /unsigned/);
  });

  test("HS256 made with the provider's public key as the secret", async () => {
    const t = await p.token('email', 'dev@signet.local');
    const jwks = (await (await fetch(`${p.root}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    const secret = JSON.stringify(jwks.keys[0]);
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', kid: jwks.keys[0]!.kid })).toString(
      'base64url',
    );
    const body = t.split('.')[1]!;
    const sig = createHmac('sha256', secret).update(`${h}.${body}`).digest('base64url');
    await rejects(
      `${h}.${body}.${sig}`,
      'TOKEN_ALGORITHM',
      /HS256, a shared-secret HMAC algorithm/,
    );
  });

  test('email not verified', async () => {
    const t = await p.token('email', 'new@signet.local');
    await rejects(t, 'EMAIL_NOT_VERIFIED', /new@signet.local is not verified.*false/);
  });

  test('missing required claims: sub, exp, email', async () => {
    const mint = (claims: Record<string, unknown>) =>
      p.mod.provider.mint(emailIssuer(), dev(), 'sigstore', { claims });
    await rejects(await mint({ sub: undefined }), 'TOKEN_CLAIMS', /no "sub"/);
    await rejects(await mint({ exp: undefined }), 'TOKEN_CLAIMS', /no numeric "exp"/);
    await rejects(await mint({ iat: undefined }), 'TOKEN_CLAIMS', /no numeric "iat"/);
    await rejects(await mint({ aud: undefined }), 'TOKEN_AUDIENCE', /no "aud" claim/);
    await rejects(await mint({ email: undefined }), 'TOKEN_CLAIMS', /no "email" claim/);
    const gh = await p.mod.provider.mint(
      p.mod.provider.issuer('github'),
      p.mod.provider.findIdentity('github', 'signet-dev/demo'),
      'sigstore',
      { claims: { run_attempt: undefined } },
    );
    await rejects(gh, 'TOKEN_CLAIMS', /extension 1.3.6.1.4.1.57264.1.21.*"run_attempt"/);
  });

  test('malformed tokens, with bounded work', async () => {
    await rejects('', 'TOKEN_MALFORMED', /no identity token/);
    await rejects('abc.def', 'TOKEN_MALFORMED', /found 1/);
    await rejects(
      '!!!.e30.x',
      'TOKEN_MALFORMED',
      /^the identity token is not a JWT: its header has characters outside base64url \(base64url of JSON\)$/,
    );
    // Three base64url parts that decode to no text (a made-up bearer token): no JWT, said so.
    await rejects(
      'abc.def.ghi',
      'TOKEN_MALFORMED',
      /^the identity token is not a JWT: its header does not decode \(base64url of JSON\)$/,
    );
    // A claim or header parameter twice is named as such (it was "the token's payload is not
    // JSON"); a syntax error says what it is.
    const b64 = (json: string) => Buffer.from(json).toString('base64url');
    const header = b64('{"alg":"ES256","kid":"k"}');
    await rejects(
      `${header}.${b64('{"sub":"a@b.c","iss":"x","sub":"dev@signet.local"}')}.x`,
      'TOKEN_MALFORMED',
      /^the token's payload has the claim "sub" twice$/,
    );
    await rejects(
      `${b64('{"alg":"none","alg":"ES256"}')}.${b64('{}')}.x`,
      'TOKEN_MALFORMED',
      /^the token's header has the parameter "alg" twice$/,
    );
    await rejects(
      `${header}.${b64('{"sub":')}.x`,
      'TOKEN_MALFORMED',
      /^the token's payload is not JSON \(it ends too early\)$/,
    );
    const started = performance.now();
    await rejects('.'.repeat(60_000), 'TOKEN_MALFORMED', /more than two/);
    await rejects('a'.repeat(100_000), 'TOKEN_MALFORMED', /more than the 65536 allowed/);
    assert.ok(performance.now() - started < 500);
  });

  test('key rotation: a new kid is fetched, old tokens still verify', async () => {
    const before = await p.token('email', 'dev@signet.local');
    await verifier.verify(before); // JWKS now cached
    p.mod.provider.rotateKey();
    const afterRotation = await p.token('email', 'dev@signet.local');
    const kid = (t: string) =>
      JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid;
    assert.notEqual(kid(before), kid(afterRotation));
    assert.equal((await verifier.verify(afterRotation)).challenge, 'dev@signet.local');
    assert.equal((await verifier.verify(before)).challenge, 'dev@signet.local');
  });
});

test('discovery redirected to another host is refused', async () => {
  const target = http.createServer((_q, r) => r.end('{}'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const tport = (target.address() as AddressInfo).port;
  const evil = http.createServer((_q, r) => {
    r.writeHead(302, { location: `http://localhost:${tport}/.well-known/openid-configuration` });
    r.end();
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  const iss = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  try {
    const v = createIdentityVerifier(
      parseIssuerConfig({ 'oidc-issuers': { [iss]: { type: 'email' } } }),
    );
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = await new SignJWT({
      iss,
      sub: 'x',
      aud: 'sigstore',
      exp: 2e9,
      email: 'a@b.c',
      email_verified: true,
    })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(privateKey);
    await assert.rejects(v.verify(t), (e: SignetError) => {
      assert.equal(e.code, 'ISSUER_UNREACHABLE');
      assert.match(e.message, /redirected to another origin \(http:\/\/localhost:\d+\): refused$/);
      return true;
    });
  } finally {
    evil.close();
    target.close();
  }
});

test('issuers() lists what /api/v2/configuration publishes', () => {
  const list = verifier.issuers();
  assert.deepEqual(list[0], {
    issuerUrl: p.root,
    audience: 'sigstore',
    challengeClaim: 'email',
    spiffeTrustDomain: '',
    issuerType: 'email',
    subjectDomain: '',
    skipEmailVerification: false,
  });
  assert.ok(
    list.some(
      (i) => i.wildcardIssuerUrl === `${p.root}/kubernetes/*` && i.challengeClaim === 'sub',
    ),
  );
  assert.ok(list.some((i) => i.spiffeTrustDomain === 'signet.local'));
});

test('a Fulcio config with legacy CI types and a Dex-style issuer-claim', async () => {
  const v = createIdentityVerifier(
    parseIssuerConfig({
      'oidc-issuers': {
        [p.root]: { type: 'email', 'issuer-claim': '$.federated_claims.connector_id' },
        [`${p.root}/github`]: { type: 'github-workflow' },
        [`${p.root}/gitlab`]: { type: 'gitlab-pipeline' },
        [`${p.root}/buildkite`]: { type: 'buildkite-job' },
      },
    }),
  );
  const fed = await v.verify(await p.token('email', 'fed@signet.local'));
  assert.equal(fed.issuer, 'https://github.com/login/oauth');
  assert.equal(fed.extensions[1], 'https://github.com/login/oauth');
  assert.equal(fed.extensions[8], 'https://github.com/login/oauth');
  await assert.rejects(
    v.verify(await p.token('email', 'dev@signet.local')),
    /no issuer claim at \$\.federated_claims\.connector_id/,
  );
  const gh = await v.verify(await p.token('github', 'octo-org/octo-repo'));
  assert.equal(
    gh.extensions[21],
    'https://github.com/octo-org/octo-repo/actions/runs/333/attempts/2',
  );
  const gl = await v.verify(await p.token('gitlab', 'grp/proj'));
  assert.equal(gl.extensions[14], 'refs/tags/v1');
  const bk = await v.verify(await p.token('buildkite', 'acme/widgets'));
  assert.equal(bk.san.value, 'https://buildkite.com/acme/widgets');
});

test('a rotation made by another process (KeyRing on disk) is picked up by the provider', async () => {
  const kid = (t: string) =>
    JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid as string;
  const before = kid(await p.token('email', 'dev@signet.local'));
  await new Promise((r) => setTimeout(r, 20)); // a distinct mtime for ring.json
  KeyRing.rotate(p.dataDir, 'oidc');
  const t = await p.token('email', 'dev@signet.local');
  assert.notEqual(kid(t), before);
  assert.equal((await verifier.verify(t)).challenge, 'dev@signet.local');
});
