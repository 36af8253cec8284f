// The explorer in Debian's Chromium (playwright-core), from entries made by real keyless
// signing through the stack: search from the keyboard, open an entry, watch the browser check
// the inclusion proof and checkpoint signature, drop good, tampered and wrong files, follow the
// log status, bad input, a phone-sized screen, and the first paint of an entry page.
// SIGNET_EXPLORER_SCREENSHOT=docs/explorer-entry.png saves the entry page shown in the README.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, after, before, test } from './browser.ts';
import {
  ALICE,
  WITNESS_NAME,
  explorerLink,
  explorerStack,
  signThrough,
  type ExplorerStack,
  type Signed,
} from './explorer-stack.ts';
import { pngStats } from './png.ts';
import { signet, stackToken } from '../interop/sign-helpers.ts';

// What the page.evaluate callbacks touch run in the browser; the project compiles without the
// DOM library, so they are declared here for this file only.
declare const document: any;
declare const DataTransfer: any;
declare const File: any;
declare const getComputedStyle: any;
type HTMLElement = any;

let stack: ExplorerStack;
let browser: Browser;
const signed: Signed[] = [];
/** Every URL any page asked for: the explorer may talk to nothing but the stack. */
const requested: string[] = [];
const contexts: BrowserContext[] = [];

async function fresh(opts: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('dialog', (d) => {
    throw new Error(`a dialog opened: ${d.message()}`);
  });
  page.on('pageerror', (e) => {
    throw new Error(`script error on ${page.url()}: ${e.message}`);
  });
  return page;
}

/** A screenshot that shows a drawn page: many colours, no colour covering nearly everything. */
async function screenshot(page: Page, name: string): Promise<Buffer> {
  const png = await page.screenshot({ fullPage: true });
  const s = pngStats(png);
  assert.ok(
    s.colours > 30 && s.dominant < 0.95,
    `${name} screenshot looks blank: ${s.colours} colours, ${(s.dominant * 100).toFixed(1)}% one colour`,
  );
  return png;
}

const uuidOf = (s: Signed) => explorerLink(s).split('/entry/')[1]!;

/** Drops files on the bundle form the way a person's drag and drop does (a DataTransfer). */
async function drop(page: Page, files: Array<{ name: string; text?: string; size?: number }>) {
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs)
      d.items.add(new File([f.text ?? new Uint8Array(f.size ?? 0)], f.name, { type: '' }));
    return d;
  }, files);
  await page.dispatchEvent('#bundle-form', 'drop', { dataTransfer: dt });
}

describe('the explorer in a real browser', () => {
  before(async () => {
    [stack, browser] = await Promise.all([explorerStack(), launchBrowser()]);
    const enc = new TextEncoder();
    signed.push(await signThrough(stack, enc.encode('release 1.0\n')));
    signed.push(await signThrough(stack, enc.encode('release 1.1\n'), { rekorVersion: 1 }));
    signed.push(await signThrough(stack, enc.encode('built in CI\n'), { github: true }));
  });
  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await stack?.close();
  });

  test('a blank capture is recognised as blank (the screenshot check can fail)', async () => {
    const page = await fresh();
    const s = pngStats(await page.screenshot());
    assert.ok(s.colours <= 2 && s.dominant > 0.99, JSON.stringify(s));
  });

  test('search from the keyboard, open an entry, and see the proof checked in the browser', async () => {
    const page = await fresh();
    await page.goto(`${stack.url}/`);
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab'); // brand
    await page.keyboard.press('Tab'); // search box
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'q');
    // The inline stylesheet is allowed by its hash in the CSP (else the page would be unstyled).
    assert.equal(
      await page.evaluate(
        () => getComputedStyle(document.querySelector('header')!).backgroundColor,
      ),
      'rgb(17, 24, 39)',
    );
    await page.keyboard.type(ALICE);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\?q=alice%40example\.com$/);
    const rows = page.locator('table.entries tbody tr');
    assert.equal(await rows.count(), 2);
    assert.deepEqual(await rows.evaluateAll((r) => r.map((x) => (x as HTMLElement).dataset.uuid)), [
      uuidOf(signed[1]!),
      uuidOf(signed[0]!),
    ]);
    await screenshot(page, 'search results');
    await rows.first().getByRole('link').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/entry/${uuidOf(signed[1]!)}$`));
    await page.waitForFunction(() => document.body.dataset.proof);
    assert.equal(await page.evaluate(() => document.body.dataset.proof), 'verified');
    const steps = await page.locator('#proof-steps li').allInnerTexts();
    assert.equal(steps.length, 5, steps.join('\n'));
    assert.match(
      steps[0]!,
      /^✓ The entry body \(\d+ bytes\) hashes to leaf hash [0-9a-f]{64} .*which is this entry's UUID/,
    );
    assert.match(
      steps[1]!,
      /^✓ The inclusion proof \(\d+ hash(es)?\) from leaf 1 leads to root hash [0-9a-f]{64}, the root the checkpoint states for its tree of 3 entries/,
    );
    assert.match(
      steps[3]!,
      /^✓ The checkpoint's signature by \S+ \(key ID [0-9a-f]{8}\) verifies with ECDSA P-256 over SHA-256 under the key of log .* in this stack's trusted root/,
    );
    assert.match(
      steps[4]!,
      new RegExp(
        `^✓ Cosigned by witness ${WITNESS_NAME} at \\S+Z: the cosignature verifies with Ed25519 under the witness key this stack names`,
      ),
    );
    assert.match(await page.locator('#proof-state').innerText(), /^Verified in your browser/);
    assert.match(await page.locator('main').innerText(), /hashedrekord, version 0\.0\.1/);
  });

  test('the GitHub Actions entry page: every Fulcio extension by name; saved for the README', async () => {
    const page = await fresh();
    await page.goto(explorerLink(signed[2]!));
    await page.waitForFunction(() => document.body.dataset.proof === 'verified');
    const ext = await page.locator('table.extensions th[scope=row]').allInnerTexts();
    for (const name of [
      'GitHub Workflow Repository',
      'GitHub Workflow Ref',
      'Run Invocation URI',
      'Source Repository URI',
    ])
      assert.ok(ext.includes(name), `${name} in ${ext.join(', ')}`);
    assert.match(await page.locator('.validity').innerText(), /valid at log time/);
    const png = await screenshot(page, 'entry');
    const out = process.env.SIGNET_EXPLORER_SCREENSHOT;
    if (out) {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(
        out,
        await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } }),
      );
    }
    assert.ok(png.length > 0);
  });

  test('first paint of an entry page from the local stack is within 200 ms', async (t) => {
    const page = await fresh();
    const url = explorerLink(signed[0]!);
    await page.goto(url); // warm: the first visit also compiles the scripts
    const samples: Array<{ paint: number; response: number }> = [];
    for (let i = 0; i < 7; i++) {
      await page.goto(url);
      samples.push(
        await page.evaluate(
          () =>
            new Promise<{ paint: number; response: number }>((resolve) => {
              const find = () => {
                const p = performance.getEntriesByName('first-contentful-paint')[0];
                const nav = (performance as any).getEntriesByType('navigation')[0];
                if (p) resolve({ paint: p.startTime, response: nav.responseEnd });
                else setTimeout(find, 10);
              };
              find();
            }),
        ),
      );
    }
    const paints = samples.map((s) => s.paint).sort((a, b) => a - b);
    const responses = samples.map((s) => s.response).sort((a, b) => a - b);
    t.diagnostic(
      `entry page, 7 loads: first contentful paint median ${paints[3]!.toFixed(0)} ms, best ${paints[0]!.toFixed(0)} ms (${paints.map((p) => p.toFixed(0)).join(', ')}); page fully received median ${responses[3]!.toFixed(0)} ms`,
    );
    // The machine is shared: neighbours' load lands on single samples, so the page is held to
    // its best run here; the median is reported above (and is ~70-140 ms on a quiet machine).
    assert.ok(paints[0]! <= 200, `best first paint ${paints[0]} ms`);
  });

  test('the link the CLI prints after signing opens the entry, checked', async () => {
    const dir = fs.mkdtempSync(path.join(stack.dataDir, 'cli-'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'signed by the CLI\n');
    const token = await stackToken(stack.url, ALICE);
    const r = await signet(
      [
        'sign-blob',
        '--server',
        stack.url,
        '--identity-token',
        token,
        '--bundle',
        'a.sigstore.json',
        'a.txt',
      ],
      { cwd: dir, env: { SIGNET_TUF_CACHE: stack.tufCache } },
    );
    assert.equal(r.status, 0, r.stderr);
    const m = /^tlog entry in the explorer: (\S+)$/m.exec(r.stderr);
    assert.ok(m, r.stderr);
    const insp = await signet(['inspect', '--trusted-root', 'root.json', 'a.sigstore.json'], {
      cwd:
        (fs.writeFileSync(
          path.join(dir, 'root.json'),
          await (await fetch(`${stack.url}/trusted_root.json`)).text(),
        ),
        dir),
    });
    assert.equal(insp.status, 0, insp.stderr);
    assert.ok(insp.stdout.includes(`  explorer:    ${m[1]}`), insp.stdout);
    const page = await fresh();
    await page.goto(m[1]!);
    await page.waitForFunction(() => document.body.dataset.proof === 'verified');
    assert.match(await page.locator('#stable-url').innerText(), new RegExp(`^${m[1]}$`));
  });

  test('the browser refuses a proof or a checkpoint signature that does not hold', async () => {
    for (const [what, tamper, want] of [
      [
        'a proof hash',
        (p: any) => (p.hashes[0] = Buffer.alloc(32, 7).toString('base64')),
        /^✗ The inclusion proof leads to root [0-9a-f]{64} for size \d+, but the checkpoint states root/,
      ],
      [
        'the witness cosignature',
        (p: any) => {
          const lines = p.checkpoint.split('\n');
          const i = lines.findIndex((l: string) => l.startsWith(`\u2014 ${WITNESS_NAME} `));
          const b64 = lines[i].slice(lines[i].lastIndexOf(' ') + 1);
          const raw = Buffer.from(b64, 'base64');
          raw[raw.length - 1] ^= 1;
          lines[i] = lines[i].replace(b64, raw.toString('base64'));
          p.checkpoint = lines.join('\n');
        },
        new RegExp(
          `^✗ The cosignature by witness ${WITNESS_NAME} \\(key ID [0-9a-f]{8}\\) does NOT verify`,
        ),
      ],
      [
        'the checkpoint signature',
        (p: any) => {
          const lines = p.checkpoint.split('\n');
          const at = lines.findIndex((l: string) => l.startsWith(`\u2014 ${p.origin} `));
          const sig = lines[at]!;
          const b64 = sig.slice(sig.lastIndexOf(' ') + 1);
          const raw = Buffer.from(b64, 'base64');
          raw[raw.length - 3] ^= 1;
          lines[at] = sig.replace(b64, raw.toString('base64'));
          p.checkpoint = lines.join('\n');
        },
        /^✗ The checkpoint's signature by \S+ \(key ID [0-9a-f]{8}\) does NOT verify/,
      ],
    ] as const) {
      const page = await fresh();
      // A server that lies about the proof: the page must not take its word.
      await page.route('**/explorer/api/entries/**', async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        tamper(body.proof);
        await route.fulfill({ response: res, json: body });
      });
      await page.goto(explorerLink(signed[0]!));
      await page.waitForFunction(() => document.body.dataset.proof);
      assert.equal(await page.evaluate(() => document.body.dataset.proof), 'failed', what);
      const steps = await page.locator('#proof-steps li').allInnerTexts();
      assert.match(steps.at(-1)!, want, `${what}: ${steps.join('\n')}`);
      assert.match(await page.locator('#proof-state').innerText(), /^NOT verified/);
    }
  });

  test('drop a good bundle with its file: verify-blob’s verdict and who signed', async () => {
    const page = await fresh();
    await page.goto(`${stack.url}/`);
    const s = signed[0]!;
    // The signed file first: the page finds which one is the bundle.
    await drop(page, [
      { name: 'release.txt', text: new TextDecoder().decode(s.artifact) },
      { name: 'release.txt.sigstore.json', text: s.bundle },
    ]);
    await page.waitForSelector('#bundle-result[data-state=ok]');
    const text = await page.locator('#bundle-result').innerText();
    assert.match(
      text,
      new RegExp(
        `^Verified OK: signed by ${ALICE} \\(issuer ${stack.url}/oidc\\) at \\S+ \\(timestamp authority\\)`,
      ),
    );
    assert.match(
      text,
      new RegExp(`Signed by ${ALICE} \\(OIDC issuer ${stack.url}/oidc\\): verified\\.`),
    );
    assert.match(text, /Artifact: +release\.txt \(\d+ bytes\), checked whole/);
    await screenshot(page, 'good bundle');
  });

  test('drop a tampered bundle: the verifier’s reason, and who the bundle claims signed', async () => {
    const page = await fresh();
    await page.goto(`${stack.url}/`);
    const s = signed[1]!;
    const b = JSON.parse(s.bundle);
    const body = JSON.parse(
      Buffer.from(b.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString(),
    );
    body.spec.data.hash.value = '0'.repeat(64); // the log entry now records another artifact
    b.verificationMaterial.tlogEntries[0].canonicalizedBody = Buffer.from(
      JSON.stringify(body),
    ).toString('base64');
    await drop(page, [
      { name: 'tampered.sigstore.json', text: JSON.stringify(b) },
      { name: 'release.txt', text: new TextDecoder().decode(s.artifact) },
    ]);
    await page.waitForSelector('#bundle-result[data-state=bad]');
    const text = await page.locator('#bundle-result').innerText();
    assert.match(text, /^error: /);
    assert.match(text, /transparency log entry|signed entry timestamp/);
    assert.match(text, new RegExp(`The bundle claims to be signed by ${ALICE} .*NOT verified`));
    await screenshot(page, 'tampered bundle');
  });

  test('drop a file that is not a bundle, a huge file, too many files: a clear message each', async () => {
    const page = await fresh();
    await page.goto(`${stack.url}/`);
    const cases: Array<[Array<{ name: string; text?: string; size?: number }>, RegExp]> = [
      [
        [{ name: 'notes.txt', text: 'just some notes' }],
        /^error: notes\.txt is not a valid Sigstore bundle: .*not valid JSON/,
      ],
      [
        [{ name: 'photo.json', text: '{"hello":"world"}' }],
        /^error: photo\.json is not a valid Sigstore bundle: /,
      ],
      [
        [{ name: 'huge.sigstore.json', size: 17 * 1024 * 1024 }],
        /^error: huge\.sigstore\.json is 17\.0 MiB; a bundle is at most 16 MiB, so it was not sent\./,
      ],
      [[{ name: 'a' }, { name: 'b' }, { name: 'c' }], /^error: 3 files were dropped/],
    ];
    for (const [files, want] of cases) {
      await page.evaluate(() =>
        document.getElementById('bundle-result')!.removeAttribute('data-state'),
      );
      await drop(page, files);
      await page.waitForSelector('#bundle-result[data-state=bad]');
      assert.match(await page.locator('#bundle-result').innerText(), want);
    }
    // The file inputs work from the keyboard as well as by dropping.
    await page.locator('#bundle-file').setInputFiles({
      name: 'b.json',
      mimeType: 'application/json',
      buffer: Buffer.from(signed[2]!.bundle),
    });
    await page.locator('#check-button').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#bundle-result[data-state=ok]');
    assert.match(
      await page.locator('#bundle-result').innerText(),
      /Artifact: +not given; checked against the digest the bundle names/,
    );
  });

  test('bad search terms and references: a message on the page, never blank; markup stays text', async () => {
    const page = await fresh();
    for (const [url, want] of [
      ['/?q=abc123', /"abc123" is 6 hex digits/],
      ['/?q=sha256%3Axyz', /must be \[sha256:/],
      ['/entry/424242', /log index 424242 is beyond the log: it holds \d+ entries/],
      [`/entry/${'0'.repeat(64)}`, /the log has no entry with UUID 0{64}/],
      ['/entry/nonsense', /entry: /],
      // Refused before any route sees them: still the explorer's page for a browser.
      [
        `/entry/${'a'.repeat(300)}`,
        /^entry: is 300 characters long: must be a log index, a 64-hex-digit UUID or an 80-hex-digit entry ID$/,
      ],
      ['/entry/%zz', /^the request URL is not valid: it has a malformed percent-escape$/],
      ['/entry/1/2', /^there is no page at \/entry\/1\/2: an entry's page is \/entry\/<log index/],
    ] as const) {
      await page.goto(`${stack.url}${url}`);
      assert.match(await page.locator('[role=alert]').innerText({ timeout: 5000 }), want, url);
    }
    await screenshot(page, 'error page');
    // Searched as an identity (no spaces): shown in the heading and kept in the search box.
    const term = `"><script>alert(1)</script><b>bold</b>@example.com`;
    await page.goto(`${stack.url}/`);
    await page.locator('#q').fill(term);
    await page.locator('#q').press('Enter');
    await page.waitForURL(/\?q=/);
    assert.equal(await page.locator('main script, main b').count(), 0);
    assert.deepEqual(await page.locator('q.term').allInnerTexts(), [term, term]); // query, "no entry"
    assert.equal(await page.locator('#q').inputValue(), term);
    // With spaces it is searched as an identity too (a SAN may hold them): still only text.
    const spaced = `<img src=x onerror=alert(2)> '&"`;
    await page.locator('#q').fill(spaced);
    await page.locator('#q').press('Enter');
    await page.waitForSelector('p.empty');
    assert.deepEqual(await page.locator('q.term').allInnerTexts(), [spaced, spaced]);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('#q').inputValue(), spaced);
  });

  test('log status follows new entries as they arrive', async () => {
    const page = await fresh();
    await page.goto(`${stack.url}/`);
    const before = Number(await page.locator('.tree-size').first().innerText());
    const s = await signThrough(stack, new TextEncoder().encode('arrives later\n'));
    await page.waitForSelector(`#latest tr.new[data-uuid="${uuidOf(s)}"]`, { timeout: 15_000 });
    assert.equal(Number(await page.locator('.tree-size').first().innerText()), before + 1);
    assert.equal(
      await page.locator('#latest tbody tr').first().getAttribute('data-uuid'),
      uuidOf(s),
    );
    assert.ok(Number(await page.locator('.rate').first().innerText()) >= 1);
    assert.match(
      (await page.locator('.checkpoint').first().textContent()) ?? '',
      new RegExp(`\\n${before + 1}\\n`),
    );
    await screenshot(page, 'home');
  });

  test('readable on a phone: nothing wider than the screen', async () => {
    const page = await fresh({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 1,
    });
    // A workflow identity nobody signed as: the "no entry matches" line quotes it whole.
    const unsigned =
      'https://github.com/example-org/example-repository/.github/workflows/release.yml@refs/heads/main';
    for (const url of [
      explorerLink(signed[2]!),
      `${stack.url}/`,
      `${stack.url}/?q=${ALICE}`,
      `${stack.url}/?q=${encodeURIComponent(unsigned)}`,
    ]) {
      await page.goto(url);
      // The screen is the layout viewport (clientWidth): on a phone innerWidth grows with the
      // content (the page is zoomed out to fit), so it cannot show a page too wide.
      const [scroll, inner] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      assert.ok(scroll <= inner, `${url}: page is ${scroll}px wide on a ${inner}px screen`);
      await screenshot(page, `phone ${url}`);
    }
  });

  test('the pages asked nothing of anyone but the stack', () => {
    assert.ok(requested.length > 20);
    const elsewhere = requested.filter(
      (u) => !u.startsWith(`${stack.url}/`) && !u.startsWith('data:') && u !== 'about:blank',
    );
    assert.deepEqual(elsewhere, []);
  });
});
