import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { SignetError } from '../../src/core/errors.ts';
import { getIdentityToken } from '../../src/client/identity/index.ts';
import { launchBrowser, after, before, test } from './browser.ts';
import { ALICE, browserTestStack } from './stack.ts';

/**
 * The device flow's verification page (RFC 8628 3.3) in a real headless Chromium, with Signet's
 * own client polling the token endpoint as `signet` does where there is no browser.
 */
let stack: Awaited<ReturnType<typeof browserTestStack>>;
let browser: Browser;

interface Instructions {
  uri: string;
  complete: string;
  code: string;
}

/** Starts the client's device sign-in; resolves the instructions it prints for the person. */
function deviceSignIn() {
  let shown!: (i: Instructions) => void;
  const instructions = new Promise<Instructions>((resolve) => (shown = resolve));
  const token = getIdentityToken({
    env: {},
    server: stack.url,
    interactive: 'device',
    timeoutMs: 20_000,
    say: (m) => {
      const i = /open (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})\n {2}\(or open (\S+)\)/.exec(m);
      if (i) shown({ uri: i[1]!, code: i[2]!, complete: i[3]! });
    },
  });
  return { instructions, token };
}

describe('the device verification page in a real browser', () => {
  before(async () => {
    [stack, browser] = await Promise.all([browserTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const fresh = async (): Promise<Page> => (await browser.newContext()).newPage();

  test('the complete link fills in the code; the person approves; the device gets the token', async () => {
    const s = deviceSignIn();
    const i = await s.instructions;
    const page = await fresh();
    await page.goto(i.complete);
    assert.equal(await page.title(), 'Approve a device · Signet');
    assert.equal(await page.getByLabel('Code shown on the device').inputValue(), i.code);
    await page.getByRole('radio', { name: new RegExp(ALICE.replace('.', '\\.')) }).check();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Device approved' }).waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`Signed in as ${ALICE}`));
    const got = await s.token;
    assert.equal(got.source, `the device sign-in at ${stack.url}/oidc`);
    const p = await stack.verifier.verify(got.token);
    assert.deepEqual(p.san, { type: 'email', value: ALICE });
  });

  test('the person types the code (any case, without the dash) at the plain address', async () => {
    const s = deviceSignIn();
    const i = await s.instructions;
    const page = await fresh();
    await page.goto(i.uri);
    const input = page.getByLabel('Code shown on the device');
    assert.equal(await input.inputValue(), '');
    await input.fill(i.code.replace('-', '').toLowerCase());
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Device approved' }).waitFor();
    const p = await stack.verifier.verify((await s.token).token);
    assert.deepEqual(p.san, { type: 'email', value: 'dev@signet.local' });
  });

  test('a wrong code is shown as such and the page stays usable; then Deny refuses the device', async () => {
    const s = deviceSignIn();
    const denied = assert.rejects(s.token, (e: unknown) => {
      assert.ok(e instanceof SignetError);
      assert.equal(e.code, 'OIDC_DENIED');
      assert.match(e.message, /the sign-in was denied/);
      return true;
    });
    const i = await s.instructions;
    const page = await fresh();
    await page.goto(i.uri);
    await page.getByLabel('Code shown on the device').fill('BBBB-BBBB');
    await page.getByRole('button', { name: 'Approve' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.innerText(), 'This code is unknown, already used or expired.');
    await page.getByLabel('Code shown on the device').fill(i.code);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('heading', { name: 'Request denied' }).waitFor();
    await denied;
    // the code cannot be approved after the denial
    await page.goto(i.complete);
    await page.getByRole('button', { name: 'Approve' }).click();
    assert.equal(
      await page.getByRole('alert').innerText(),
      'This code is unknown, already used or expired.',
    );
  });
});
