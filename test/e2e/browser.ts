import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  after as nodeAfter,
  before as nodeBefore,
  test as nodeTest,
  type TestContext,
} from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * A real headless Chromium for the tests that drive Signet's pages (Debian's package; CI
 * installs it). Without the background-networking flags Chromium tries to reach Google's
 * services, which a closed network refuses.
 */
export const CHROMIUM = process.env.SIGNET_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** `skip` option for node:test: a reason when there is no Chromium here, else false. */
export const noBrowser: string | false = fs.existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install chromium): the browser tests need a real browser`;

/*
 * node:test's test/before/after for browser suites. Without Chromium each test is reported
 * skipped with the reason (a skipped describe() counts as 0 tests and 0 skipped in the summary,
 * which hides what did not run), and the hooks that would launch the browser do nothing.
 */
export function test(name: string, fn: (t: TestContext) => unknown): Promise<void> {
  return nodeTest(name, { skip: noBrowser }, fn as (t: TestContext) => Promise<void>);
}
export function before(fn: () => unknown): void {
  nodeBefore(async () => {
    if (noBrowser === false) await fn();
  });
}
export function after(fn: () => unknown): void {
  nodeAfter(async () => {
    if (noBrowser === false) await fn();
  });
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * `url` in a fresh browser context: a script error on the page fails the test, and so does a
 * dialog when `failOnDialog` (a page that must not run what an entry holds).
 */
export async function openPage(
  browser: Browser,
  url: string,
  opts: { failOnDialog?: boolean } = {},
): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => {
    throw new Error(`script error on ${page.url()}: ${e.message}`);
  });
  if (opts.failOnDialog)
    page.on('dialog', (d) => {
      throw new Error(`a dialog opened: ${d.message()}`);
    });
  await page.goto(url);
  return page;
}

/**
 * An OAuth client's redirect target on loopback: records each request's query and answers a
 * small page, as a real client's callback would.
 */
export interface RedirectTarget {
  uri: string;
  /** The next request's query parameters. */
  next(): Promise<URLSearchParams>;
  /** How many times the browser came back so far. */
  readonly count: number;
  close(): Promise<void>;
}

export async function redirectTarget(): Promise<RedirectTarget> {
  const waiting: Array<(q: URLSearchParams) => void> = [];
  const arrived: URLSearchParams[] = [];
  let count = 0;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== '/callback') {
      res.writeHead(404).end(); // the browser's /favicon.ico
      return;
    }
    const q = u.searchParams;
    count++;
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>client</title>back');
    const w = waiting.shift();
    if (w) w(q);
    else arrived.push(q);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    uri: `http://127.0.0.1:${port}/callback`,
    get count() {
      return count;
    },
    next: () => {
      const q = arrived.shift();
      return q ? Promise.resolve(q) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
