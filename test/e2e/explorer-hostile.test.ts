// The explorer in Chromium (playwright-core) showing entries anyone can write: certificates
// from a CA of one's own with names that would render as someone else's.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { after, before, launchBrowser, openPage, test } from './browser.ts';
import { tempStack } from '../helpers/stack.ts';
import { craftCertificate, logCrafted, ownCa } from '../helpers/crafted-entries.ts';

declare const document: any;
type HTMLElement = any;

let stack: Awaited<ReturnType<typeof tempStack>>;
let browser: Browser;
let reversed: string;

const open = (path: string): Promise<Page> =>
  openPage(browser, `${stack.url}${path}`, { failOnDialog: true });

describe('hostile entries in a real browser', () => {
  before(async () => {
    [stack, browser] = await Promise.all([tempStack(), launchBrowser()]);
    // "\u202e" reverses what follows: this username reads as alice@example.com.
    reversed = await logCrafted(
      stack.url,
      craftCertificate(ownCa(), { username: '\u202emoc.elpmaxe@ecila' }),
      'reversed',
    );
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('a right-to-left override in an identity is shown, not obeyed', async () => {
    const page = await open(`/entry/${reversed}`);
    const identity = await page.locator('dd.identity').innerText();
    assert.equal(identity.trim(), '[U+202E]moc.elpmaxe@ecila');
  });

  test('the same once the home page has refreshed its list of entries from the JSON API', async () => {
    const page = await open('/');
    // Mark the server's rows; the status poll (every 2 s) replaces them with its own.
    await page.evaluate(() => {
      for (const tr of document.querySelectorAll('#latest tbody tr'))
        (tr as HTMLElement).dataset.server = '1';
    });
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#latest tbody tr').length > 0 &&
        !document.querySelector('#latest tbody tr[data-server]'),
      undefined,
      { timeout: 10_000 },
    );
    const signer = await page.locator('#latest tbody tr td.wrap').first().innerText();
    assert.match(signer, /^\[U\+202E\]moc\.elpmaxe@ecila/);
  });

  test('a certificate from a CA of one’s own is marked, on its page and in live lists', async () => {
    const page = await open(`/entry/${reversed}`);
    assert.equal(await page.locator('h2#signer-0').innerText(), 'Signer (claimed)');
    assert.match(
      await page.locator('dd.ca').innerText(),
      /^not from this stack's CA No CA of this stack's trusted root issued this certificate \(.+\): anyone can make a certificate naming any identity/,
    );
    const home = await open('/');
    await home.evaluate(() => {
      for (const tr of document.querySelectorAll('#latest tbody tr'))
        (tr as HTMLElement).dataset.server = '1';
    });
    await home.waitForFunction(
      () =>
        document.querySelectorAll('#latest tbody tr').length > 0 &&
        !document.querySelector('#latest tbody tr[data-server]'),
      undefined,
      { timeout: 10_000 },
    );
    const marks = await home.locator('#latest tbody tr td.wrap .untrusted').allInnerTexts();
    assert.deepEqual(marks, ["not from this stack's CA"]);
  });
});
