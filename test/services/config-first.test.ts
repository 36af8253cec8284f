import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireServices, tempStack } from '../helpers/stack.ts';
import { startStack } from '../../src/services/stack.ts';
import { quiet } from './context.ts';

type Config = Record<string, Record<string, unknown>>;

/** Every file and folder under `dir` with its size and modification time ('' when absent). */
function snapshot(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const st = fs.statSync(path.join(dir, f));
      return `${f} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`;
    })
    .join('\n');
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-config-first-'));

/**
 * A bad value in each section, services created late first (TUF and the TSA come after every
 * key of the others is made), each with the field its one-line error must start with, and the
 * section without the bad key.
 */
const CASES: Array<{ bad: Config; field: string; message: RegExp; fixed: Config }> = [
  {
    bad: { ca: { keyType: 'P-256' }, tuf: { lifetimes: { timestamp: 0 } } },
    field: 'tuf.lifetimes.timestamp',
    message: /must be a positive number of days/,
    fixed: { ca: { keyType: 'P-256' }, tuf: { lifetimes: { timestamp: 1 } } },
  },
  {
    bad: { tsa: { includeChain: 'yes' } },
    field: 'tsa.includeChain',
    message: /must be true or false/,
    fixed: { tsa: { includeChain: true } },
  },
  {
    bad: { rekor: { witnesses: [{ url: 'ftp://witness.example', key: 'w+1+AA' }] } },
    field: 'rekor.witnesses[0].url',
    message: /must be an http\(s\) URL/,
    fixed: { rekor: { batchMaxAgeMs: 0 } },
  },
  {
    bad: { ca: { keyType: 'rsa-1024' } },
    field: 'ca.keyType',
    message: /must be P-384 or P-256, not "rsa-1024"/,
    fixed: { ca: { keyType: 'P-256' } },
  },
  {
    bad: { ca: { issuers: path.join(tmp, 'no-such-issuers.yaml') } },
    field: 'ca.issuers',
    message: /cannot read issuer configuration: .*no-such-issuers\.yaml does not exist/,
    fixed: { ca: {} },
  },
  {
    bad: { ctlog: { roots: [path.join(tmp, 'no-such-root.pem')] } },
    field: 'ctlog.roots[0]',
    message: /cannot read root certificates: .*no-such-root\.pem does not exist/,
    fixed: { ctlog: { roots: [] } },
  },
];

function start(dataDir: string, config: Config) {
  return startStack({ port: 0, host: '127.0.0.1', dataDir, log: quiet, config });
}

async function refused(dataDir: string, c: (typeof CASES)[number]): Promise<void> {
  await assert.rejects(start(dataDir, c.bad), (e: Error) => {
    assert.ok(e.message.startsWith(`${c.field}: `), e.message);
    assert.match(e.message, c.message);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

test('a bad value in any section is refused before any service writes to the data folder, and the fixed config starts', async () => {
  for (const c of CASES) {
    // An empty data folder stays empty; one that does not exist is not made.
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    await refused(empty, c);
    assert.deepEqual(fs.readdirSync(empty), [], `${c.field}: the data folder was written to`);
    const absent = path.join(tmp, `absent-${CASES.indexOf(c)}`);
    await refused(absent, c);
    assert.equal(fs.existsSync(absent), false, `${c.field}: the data folder was made`);
    // Started again with the value fixed, in the same folder: every service is there.
    const stack = await start(empty, c.fixed);
    try {
      await requireServices(stack.url, ['oidc', 'ctlog', 'ca', 'rekor', 'tsa', 'tuf', 'explorer']);
    } finally {
      await stack.close();
    }
    assert.ok(fs.readdirSync(empty).length > 0);
  }
});

test('a bad value leaves a data folder in use unchanged', async () => {
  const stack = await tempStack();
  await stack.close();
  const before = snapshot(stack.dataDir);
  assert.match(before, /ctlog/);
  for (const c of CASES) {
    await refused(stack.dataDir, c);
    assert.equal(snapshot(stack.dataDir), before, `${c.field}: the data folder changed`);
  }
  const again = await tempStack({ dataDir: stack.dataDir });
  await again.close();
});
