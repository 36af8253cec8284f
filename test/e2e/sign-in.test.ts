import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SignetError } from '../../src/core/errors.ts';
import { getIdentityToken } from '../../src/client/identity/index.ts';
import { launchBrowser, after, before, test } from './browser.ts';
import { ALICE, browserTestStack } from './stack.ts';

/**
 * Signet's interactive sign-in (authorization code + PKCE with a loopback redirect, RFC 8252)
 * with a real headless Chromium as the person's browser: through the library, and through
 * `signet sign-blob` with the browser named by the BROWSER environment variable.
 */
let stack: Awaited<ReturnType<typeof browserTestStack>>;
let browser: Browser;

const bin = path.resolve('bin/signet');
const openUrl = path.resolve('test/e2e/open-url.ts');

/** The person: opens the URL, picks `identity` (or cancels), and waits to land back at signet. */
async function person(url: string, identity: string | 'cancel'): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  if (identity === 'cancel') await page.getByRole('button', { name: 'Cancel' }).click();
  else {
    await page.getByRole('radio', { name: new RegExp(identity.replace(/\./g, '\\.')) }).check();
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/auth\/callback\?/);
  return page;
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, args, { env: { ...process.env, SIGNET_SERVER: '', ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.once('error', reject);
    c.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('interactive sign-in with a real browser', () => {
  before(async () => {
    [stack, browser] = await Promise.all([browserTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('getIdentityToken: the browser signs in, the loopback redirect takes the code', async () => {
    let landed: Page | undefined;
    const said: string[] = [];
    const got = await getIdentityToken({
      env: {},
      server: stack.url,
      interactive: 'browser',
      say: (m) => said.push(m),
      openBrowser: async (url) => {
        landed = await person(url, ALICE);
      },
    });
    assert.equal(got.source, `the browser sign-in at ${stack.url}/oidc`);
    const p = await stack.verifier.verify(got.token);
    assert.deepEqual(p.san, { type: 'email', value: ALICE });
    assert.match(said[0]!, /code_challenge_method=S256/);
    assert.equal(await landed!.title(), 'Signed in · signet');
    assert.match(await landed!.locator('body').innerText(), /return to the terminal/);
  });

  test('Cancel in the browser: the sign-in fails as cancelled, and the page says so', async () => {
    let landed: Page | undefined;
    await assert.rejects(
      getIdentityToken({
        env: {},
        server: stack.url,
        interactive: 'browser',
        say: () => {},
        openBrowser: async (url) => {
          landed = await person(url, 'cancel');
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof SignetError);
        assert.equal(e.code, 'OIDC_DENIED');
        assert.match(e.message, /the sign-in was cancelled in the browser/);
        return true;
      },
    );
    assert.match(await landed!.locator('body').innerText(), /You cancelled the sign-in/);
  });

  test('signet sign-blob without a token: BROWSER hands the URL to Chromium; verify-blob accepts the bundle', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-e2e-sign-'));
    const file = path.join(dir, 'artifact.txt');
    fs.writeFileSync(file, 'signed through a real browser\n');
    const bundle = path.join(dir, 'artifact.sigstore.json');
    // Where the BROWSER command delivers the URL; the test then plays the person in Chromium.
    const urls: string[] = [];
    const signedIn: Promise<unknown>[] = [];
    const sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        urls.push(body);
        signedIn.push(person(body, 'dev@signet.local'));
        res.end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const env = {
      SIGNET_SIGN_IN: 'browser',
      BROWSER: `${process.execPath} ${openUrl}`,
      SIGNET_E2E_URL_SINK: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`,
      SIGNET_TUF_CACHE: path.join(dir, 'tuf'),
      SIGSTORE_ID_TOKEN: undefined,
    };
    try {
      const signed = await run(['sign-blob', file, '--server', stack.url, '--bundle', bundle], env);
      assert.equal(signed.status, 0, signed.stderr);
      assert.equal(urls.length, 1);
      assert.ok(urls[0]!.startsWith(`${stack.url}/oidc/auth?`), urls[0]);
      await Promise.all(signedIn);
      assert.match(signed.stderr, /using the identity token from the browser sign-in/);
      const verified = await run(
        [
          'verify-blob',
          file,
          '--bundle',
          bundle,
          '--certificate-identity',
          'dev@signet.local',
          '--certificate-oidc-issuer',
          `${stack.url}/oidc`,
          '--server',
          stack.url,
        ],
        env,
      );
      assert.equal(verified.status, 0, verified.stderr);
      // the policy is exact: another identity does not verify
      const other = await run(
        [
          'verify-blob',
          file,
          '--bundle',
          bundle,
          '--certificate-identity',
          ALICE,
          '--certificate-oidc-issuer',
          `${stack.url}/oidc`,
          '--server',
          stack.url,
        ],
        env,
      );
      assert.equal(other.status, 12);
    } finally {
      sink.close();
      sink.closeAllConnections();
    }
  });
  test('signet token --flow browser opens the browser named by BROWSER and prints the token', async () => {
    const signedIn: Promise<unknown>[] = [];
    const sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        signedIn.push(person(body, 'dev@signet.local'));
        res.end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    // xdg-open reads BROWSER too; shadow it so only signet's own reading of BROWSER can pass.
    const shim = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-no-xdg-'));
    fs.writeFileSync(path.join(shim, 'xdg-open'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    try {
      const got = await run(['token', '--server', stack.url, '--flow', 'browser'], {
        PATH: `${shim}:${process.env.PATH}`,
        BROWSER: `${process.execPath} ${openUrl}`,
        SIGNET_E2E_URL_SINK: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`,
        // must not stand in for the sign-in that was asked for
        SIGSTORE_ID_TOKEN: 'not-a-token',
      });
      assert.equal(got.status, 0, got.stderr);
      assert.equal(signedIn.length, 1, 'the BROWSER command was not used');
      await Promise.all(signedIn);
      const claims = JSON.parse(
        Buffer.from(got.stdout.trim().split('.')[1]!, 'base64url').toString(),
      ) as { email?: string; iss?: string };
      assert.equal(claims.email, 'dev@signet.local');
      assert.equal(claims.iss, `${stack.url}/oidc`);
    } finally {
      sink.close();
      sink.closeAllConnections();
    }
  });
});
