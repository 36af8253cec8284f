// Attestation entry pages in Chromium (playwright-core): a keyless attestation logged by Rekor
// v2 (a hashedrekord over the DSSE PAE's digest) is not presented as the file's digest, and an
// intoto entry's subjects, read from the statement the log keeps, lead to the file's entries.
// A commit attestation is found by the commit's ID typed into the search box.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { after, before, launchBrowser, openPage, test } from './browser.ts';
import { commitRepository } from '../helpers/git-commits.ts';
import { pae } from '../../src/core/dsse/index.ts';
import { toHex } from '../../src/core/encoding/hex.ts';
import { leafHash } from '../../src/core/merkle/hash.ts';
import { signEnvelope } from '../../src/client/sign/index.ts';
import { gitStatement } from '../../src/client/git/attest.ts';
import { logIntotoAs } from '../services/rekor/fixtures.ts';
import {
  ALICE,
  plainExplorerStack,
  signingAs,
  signThrough,
  type ExplorerStack,
} from './explorer-stack.ts';

declare const document: any;
declare const getComputedStyle: any;
type HTMLElement = any;

const TYPE = 'application/vnd.in-toto+json';
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const file = new TextEncoder().encode('release 2.0\n');
const statement = new TextEncoder().encode(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'release.tar', digest: { sha256: sha256(file) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  }),
);

let stack: ExplorerStack;
let browser: Browser;
const uuid: Record<string, string> = {};
let commit: string;

const open = (path: string): Promise<Page> => openPage(browser, `${stack.url}${path}`);

/** The entry summary as the page shows it: label → text. */
async function summary(page: Page): Promise<Map<string, string>> {
  const pairs = await page.evaluate(() =>
    [...document.querySelectorAll('main dl.grid')[0].querySelectorAll('dt')].map(
      (dt: HTMLElement) => [dt.innerText.trim(), dt.nextElementSibling.innerText.trim()],
    ),
  );
  return new Map(pairs as Array<[string, string]>);
}

describe('attestation entry pages in a real browser', () => {
  before(async () => {
    [stack, browser] = await Promise.all([plainExplorerStack(), launchBrowser()]);
    const { ctx } = await signingAs(stack, { rekorVersion: 2 });
    const e = (await signEnvelope(statement, TYPE, ctx)).verificationMaterial.tlogEntries[0]!;
    assert.equal(`${e.kind} ${e.kindVersion}`, 'hashedrekord 0.0.2');
    uuid.v2 = toHex(leafHash(e.canonicalizedBody));
    const signed = await signThrough(stack, file, { rekorVersion: 1 });
    uuid.file = /\/entry\/([0-9a-f]{64})/.exec(signed.events.join('\n'))![1]!;
    uuid.intoto = await logIntotoAs(stack.url, ALICE, statement);
    commit = commitRepository().head;
    const predicate = new TextEncoder().encode('{"approved":true}');
    const about = gitStatement('commit', commit, 'https://example.com/review/v1', predicate, 'p');
    uuid.commit = await logIntotoAs(stack.url, ALICE, about);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('a keyless Rekor v2 attestation: its digest is what the signature covers, not an artifact’s', async () => {
    const page = await open(`/entry/${uuid.v2}`);
    const rows = await summary(page);
    assert.ok(!rows.has('Artifact digest'), [...rows.keys()].join(', '));
    const signed = rows.get('Signed digest') ?? '';
    assert.equal(signed.split(/\s/)[0], `sha256:${sha256(pae(TYPE, statement))}`);
    assert.match(signed, /the digest of its DSSE pre-authentication encoding/);
    // The note reads as a note under the digest, not as another value.
    const note = page.locator('dd[data-of=data] .note');
    assert.equal(await note.evaluate((n: HTMLElement) => getComputedStyle(n).display), 'block');
  });

  test('an intoto attestation: its subject is shown and leads to the file’s entries', async () => {
    const page = await open(`/entry/${uuid.intoto}`);
    const rows = await summary(page);
    assert.equal(rows.get('Payload digest'), `sha256:${sha256(statement)}`);
    assert.equal(rows.get('Predicate type'), 'https://slsa.dev/provenance/v1');
    assert.match(rows.get('Subjects')!, new RegExp(`^release\\.tar sha256:${sha256(file)}\\n`));
    await page.locator('dd.subjects a').click();
    await page.waitForURL(/\?q=sha256%3A/);
    const found = await page
      .locator('table.entries tbody tr')
      .evaluateAll((r) => r.map((x) => (x as HTMLElement).dataset.uuid));
    // The signed file, and the attestation about it (its subject is indexed).
    assert.deepEqual(found, [uuid.intoto, uuid.file]);
  });

  test('a commit attestation: the commit’s ID typed into the search box finds it, and its subject leads back', async () => {
    const page = await open('/');
    await page.locator('#q').fill(commit);
    await page.locator('#q').press('Enter');
    await page.waitForURL(/\?q=/);
    assert.match(
      await page.locator('p.query').innerText(),
      new RegExp(`^Searched for ${commit} as a git commit ID or SHA-1 digest: 1 entry\\.$`),
    );
    const found = () =>
      page
        .locator('table.entries tbody tr')
        .evaluateAll((r) => r.map((x) => (x as HTMLElement).dataset.uuid));
    assert.deepEqual(await found(), [uuid.commit]);
    // Its entry page names the subject as the statement does; that link is the same search.
    await page.locator(`table.entries tbody tr[data-uuid="${uuid.commit}"] a`).first().click();
    await page.waitForURL(/\/entry\//);
    assert.equal(
      (await summary(page)).get('Subjects')!.split('\n')[0],
      `(no name) gitCommit:${commit}`,
    );
    await page.locator('dd.subjects a').click();
    await page.waitForURL(/\?q=gitCommit%3A/);
    assert.deepEqual(await found(), [uuid.commit]);
  });
});
