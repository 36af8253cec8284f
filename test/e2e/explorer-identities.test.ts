// Identities with spaces in Chromium (playwright-core): typed into the search box as a person
// would (the form sends the spaces as `+`), and followed from an entry page's identity link.
// Certificates from a CA of one's own, logged through the real Rekor API, as anyone can.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { after, before, launchBrowser, openPage, test } from './browser.ts';
import { tempStack } from '../helpers/stack.ts';
import { craftCertificate, emailSan, logCrafted, ownCa } from '../helpers/crafted-entries.ts';

declare const document: any;
type HTMLElement = any;

const DISPLAY = 'Jane Doe <jane@example.com>';
const USERNAME = 'Jane Doe';

let stack: Awaited<ReturnType<typeof tempStack>>;
let browser: Browser;
const uuid: Record<string, string> = {};

const open = (path: string): Promise<Page> => openPage(browser, `${stack.url}${path}`);

const rows = (page: Page) =>
  page
    .locator('table.entries tbody tr')
    .evaluateAll((r) => r.map((x) => (x as HTMLElement).dataset.uuid));

describe('identities holding spaces, in a real browser', () => {
  before(async () => {
    [stack, browser] = await Promise.all([tempStack(), launchBrowser()]);
    const ca = ownCa();
    uuid.display = await logCrafted(
      stack.url,
      craftCertificate(ca, { sans: [emailSan(DISPLAY)] }),
      'a',
    );
    uuid.username = await logCrafted(stack.url, craftCertificate(ca, { username: USERNAME }), 'b');
    uuid.plain = await logCrafted(
      stack.url,
      craftCertificate(ca, { sans: [emailSan('jane@example.com')] }),
      'c',
    );
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('typed into the search box: the entry of exactly that identity', async () => {
    const page = await open('/');
    for (const [term, want] of [
      [DISPLAY, [uuid.display]],
      [USERNAME, [uuid.username]],
      ['jane@example.com', [uuid.plain]],
    ] as const) {
      await page.locator('#q').fill(term);
      await page.locator('#q').press('Enter');
      await page.waitForURL((u) => new URL(u).searchParams.get('q') === term);
      assert.equal(await page.locator('[role=alert]').count(), 0, term);
      assert.deepEqual(await rows(page), want, term);
      assert.deepEqual(await page.locator('q.term').allInnerTexts(), [term]);
      assert.match(await page.locator('p.query').innerText(), /: 1 entry\.$/);
      assert.equal(await page.locator('#q').inputValue(), term);
    }
    // A part of an identity is not it.
    await page.locator('#q').fill('Jane');
    await page.locator('#q').press('Enter');
    await page.waitForSelector('p.empty');
    assert.deepEqual(await rows(page), []);
    // Nothing found is not listed "newest first".
    assert.match(await page.locator('p.query').innerText(), /: 0 entries\.$/);
  });

  test('an entry page’s identity link finds that entry', async () => {
    const page = await open(`/entry/${uuid.display}`);
    await page.locator('dd.identity a').click();
    await page.waitForURL(/\?q=/);
    assert.deepEqual(await rows(page), [uuid.display]);
    assert.equal(await page.evaluate(() => document.querySelector('q.term')?.textContent), DISPLAY);
  });
});
