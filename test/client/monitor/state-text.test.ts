import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { IdentityAlert } from '../../../src/client/monitor/alerts.ts';
import { emptyState, loadState, saveState } from '../../../src/client/monitor/state.ts';

/**
 * The monitor's state file keeps alerts not yet delivered, with the identities they name: any
 * text a certificate may carry (a NUL, a leading U+FEFF, C1 controls), and any JavaScript string
 * (a lone surrogate), comes back exactly, so a restart delivers what was found, not something
 * else.
 */
test('identities in pending alerts survive the state file exactly', () => {
  const names = ['mallory@example.com\0victim', '\ufeffalice', 'a\u0085b\u2028c', 'x\ud800y\udc00'];
  const alerts: IdentityAlert[] = names.map((identity, i) => ({
    type: 'identity',
    id: `id${i}`,
    log: 'https://log.example',
    logIndex: i,
    kind: 'hashedrekord',
    identity,
    issuer: `https://issuer.example/${identity}`,
    artifactDigest: `sha256:${'cd'.repeat(32)}`,
    fingerprint: 'ab'.repeat(32),
    matches: [{ rule: 'certIdentities[0]', field: 'san', pattern: '.*', value: identity }],
    entryUrl: 'https://log.example/entry/1',
  }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-state-')), 'state.json');
  const s = emptyState();
  s.pending = alerts.map((alert) => ({ alert, printed: true, delivered: [] }));
  saveState(file, s);
  const back = loadState(file);
  assert.deepEqual(
    back.pending.map((p) => p.alert),
    alerts,
  );
  // The file is ASCII-safe JSON: the NUL and the lone surrogates are escapes, not raw bytes.
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.includes('\0'));
  assert.ok(text.includes('\\u0000') && text.includes('\\ud800'));
});
