/**
 * loadTrustedRoot's warnings reach the caller as sign()'s do: trust on first use of a server's
 * TUF root is a security warning, given to `onEvent` (else printed), never dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';
import { loadTrustedRoot } from '../../src/index.ts';

test('loadTrustedRoot gives its trust-on-first-use warning to onEvent, once', async () => {
  const stack = await tempStack();
  const saved = process.env.SIGNET_TUF_CACHE;
  process.env.SIGNET_TUF_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-lib-trust-'));
  try {
    const events: string[] = [];
    const root = await loadTrustedRoot({ server: stack.url, onEvent: (m) => events.push(m) });
    assert.ok(root.tlogs.length > 0);
    assert.equal(events.length, 1, events.join('\n'));
    assert.match(events[0]!, /^warning: trust on first use: no root given for /);
    // The root is pinned now: no warning the second time.
    const again: string[] = [];
    await loadTrustedRoot({ server: stack.url, onEvent: (m) => again.push(m) });
    assert.deepEqual(again, []);
  } finally {
    if (saved === undefined) delete process.env.SIGNET_TUF_CACHE;
    else process.env.SIGNET_TUF_CACHE = saved;
    await stack.close();
  }
});
