import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import {
  launchBrowser,
  after,
  before,
  test,
  redirectTarget,
  type RedirectTarget,
} from './browser.ts';
import { ALICE, browserTestStack, GITHUB_REPO } from './stack.ts';
import { startProvider } from '../services/oidc/harness.ts';

/**
 * The built-in provider's login page (authorization code + PKCE, RFC 6749 4.1 / RFC 7636) as a
 * person meets it: in a real headless Chromium, against a whole running stack.
 */
let stack: Awaited<ReturnType<typeof browserTestStack>>;
let browser: Browser;
let client: RedirectTarget;

describe('the login page in a real browser', () => {
  before(async () => {
    [stack, browser, client] = await Promise.all([
      browserTestStack(),
      launchBrowser(),
      redirectTarget(),
    ]);
  });
  after(async () => {
    await Promise.all([browser?.close(), client?.close()]);
    await stack?.close();
  });

  /** A client's authorization request: its URL, and the verifier only the client knows. */
  function authorization(issuer: string, state: string) {
    const verifier = randomBytes(32).toString('base64url');
    const u = new URL(`${issuer}/auth`);
    u.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'sigstore',
      redirect_uri: client.uri,
      scope: 'openid email',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state,
      nonce: `nonce-${state}`,
    }).toString();
    return { url: u.href, verifier };
  }

  /** The client's back channel: the code for tokens (RFC 6749 4.1.3). */
  async function exchange(issuer: string, code: string, verifier: string) {
    const r = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: client.uri,
        client_id: 'sigstore',
        code_verifier: verifier,
      }).toString(),
    });
    return { status: r.status, body: (await r.json()) as Record<string, string> };
  }

  async function fresh(): Promise<Page> {
    return (await browser.newContext()).newPage();
  }

  test('a person picks an identity; the client gets a code, then a token the CA accepts', async () => {
    const issuer = `${stack.url}/oidc`;
    const a = authorization(issuer, 'state-1');
    const page = await fresh();
    await page.goto(a.url);
    // What the person sees: the title, who asks, the choices, a submit button.
    assert.equal(await page.title(), 'Sign in · Signet');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(
      await page.locator('main').innerText(),
      /The application sigstore asks who you are/,
    );
    const choices = page.getByRole('radio');
    assert.deepEqual(await Promise.all((await choices.all()).map((c) => c.inputValue())), [
      'dev@signet.local',
      ALICE,
    ]);
    assert.ok(await page.getByRole('radio', { name: /dev@signet\.local/ }).isChecked());
    const submit = page.getByRole('button', { name: 'Sign in' });
    assert.ok(await submit.isVisible());

    await page.getByRole('radio', { name: new RegExp(ALICE.replace('.', '\\.')) }).check();
    await submit.click();
    const back = await client.next();
    await page.waitForURL((u) => u.href.startsWith(client.uri));
    assert.equal(back.get('state'), 'state-1');
    assert.equal(back.get('error'), null);
    const code = back.get('code')!;
    assert.match(code, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(
      new URL(page.url()).searchParams.get('code'),
      code,
      'the browser carried the code',
    );

    const t = await exchange(issuer, code, a.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const p = await stack.verifier.verify(t.body['id_token']!);
    assert.deepEqual(p.san, { type: 'email', value: ALICE });
    assert.equal(p.issuer, issuer);
    // the code is single use: the second exchange is refused
    const again = await exchange(issuer, code, a.verifier);
    assert.equal(again.status, 400);
    assert.equal(again.body['error'], 'invalid_grant');
  });

  test('the GitHub issuer offers its workflows; the token has the GitHub claims', async () => {
    const issuer = `${stack.url}/oidc/github`;
    const a = authorization(issuer, 'state-gh');
    const page = await fresh();
    await page.goto(a.url);
    const radio = page.getByRole('radio', { name: new RegExp(GITHUB_REPO) });
    assert.match(
      await page.locator('label.choice', { has: radio }).innerText(),
      /GitHub Actions workflow/,
    );
    await radio.check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    const back = await client.next();
    assert.equal(back.get('state'), 'state-gh');
    const t = await exchange(issuer, back.get('code')!, a.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const p = await stack.verifier.verify(t.body['id_token']!);
    assert.equal(p.issuer, issuer);
    assert.equal(p.extensions[12], `https://github.com/${GITHUB_REPO}`);
  });

  test('the wrong PKCE verifier gets no token even with the right code', async () => {
    const issuer = `${stack.url}/oidc`;
    const a = authorization(issuer, 'state-pkce');
    const page = await fresh();
    await page.goto(a.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const back = await client.next();
    const t = await exchange(issuer, back.get('code')!, randomBytes(32).toString('base64url'));
    assert.equal(t.status, 400);
    assert.match(t.body['error_description']!, /code_verifier does not match the code_challenge/);
  });

  test('Cancel sends the person back with access_denied and no code', async () => {
    const page = await fresh();
    await page.goto(authorization(`${stack.url}/oidc`, 'state-cancel').url);
    await page.getByRole('button', { name: 'Cancel' }).click();
    const back = await client.next();
    assert.equal(back.get('error'), 'access_denied');
    assert.equal(back.get('state'), 'state-cancel');
    assert.equal(back.get('code'), null);
  });

  test('a login page answered twice (a second tab of the same page) is refused in words', async () => {
    const a = authorization(`${stack.url}/oidc`, 'state-twice');
    const first = await fresh();
    await first.goto(a.url);
    const html = await first.content();
    // The second tab shows the very same page (same login), as a restored tab would.
    const second = await (await browser.newContext()).newPage();
    await second.route(a.url, (r) => r.fulfill({ body: html, contentType: 'text/html' }));
    await second.goto(a.url);
    await first.getByRole('button', { name: 'Sign in' }).click();
    assert.ok((await client.next()).get('code'));
    const answer = second.waitForResponse((r) => r.request().method() === 'POST');
    await second.getByRole('button', { name: 'Sign in' }).click();
    assert.equal((await answer).status(), 400);
    await second.getByRole('heading', { name: 'Cannot sign in' }).waitFor();
    assert.match(
      await second.locator('main').innerText(),
      /This sign-in was already answered: start again from the application that sent you here/,
    );
    assert.ok(second.url().startsWith(stack.url), 'the person stays at the provider');
  });

  test('a bad authorization request shows why, and offers no login', async () => {
    const page = await fresh();
    const u = new URL(authorization(`${stack.url}/oidc`, 's').url);
    u.searchParams.set('redirect_uri', 'https://evil.example/cb');
    const r = await page.goto(u.href);
    assert.equal(r?.status(), 400);
    assert.match(
      await page.locator('main').innerText(),
      /redirect_uri "https:\/\/evil.example\/cb" is not registered for client sigstore/,
    );
    assert.equal(await page.getByRole('radio').count(), 0);
  });
});

describe('an expired login page in a real browser', () => {
  test('submitting after the login timeout is refused; the client hears nothing', async () => {
    const [p, b, c] = await Promise.all([
      startProvider({ loginTimeoutSeconds: 1 }),
      launchBrowser(),
      redirectTarget(),
    ]);
    try {
      const verifier = randomBytes(32).toString('base64url');
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: 'sigstore',
        redirect_uri: c.uri,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        state: 'late',
      });
      const page = await b.newPage();
      await page.goto(`${p.root}/auth?${q}`);
      await new Promise((r) => setTimeout(r, 1100));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Cannot sign in' }).waitFor();
      assert.match(
        await page.locator('main').innerText(),
        /This sign-in expired \(it is open for 1 s\): start again from the application/,
      );
      assert.ok(page.url().startsWith(p.root));
      assert.equal(c.count, 0, 'no code and no error went to the client');
    } finally {
      await Promise.all([b.close(), c.close()]);
      await p.close();
    }
  });
});
