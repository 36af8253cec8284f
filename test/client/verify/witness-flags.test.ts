import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { witnessPolicy } from '../../../src/client/verify/setup.ts';
import { cosigner, formatCosignerKey } from '../../../src/core/note/cosignature.ts';

const vkey = (name: string) =>
  formatCosignerKey(cosigner(name, generateKeyPairSync('ed25519').privateKey));

test('--witness-key takes vkeys and files of them; --witness-threshold is checked against them', async () => {
  assert.equal(await witnessPolicy({}), undefined);
  const a = vkey('a.example/w');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-wk-')), 'witnesses.txt');
  fs.writeFileSync(file, `# witnesses\n${vkey('b.example/w')}\n\n${vkey('c.example/w')}\n`);
  const p = await witnessPolicy({ witnessKey: [a, file], witnessThreshold: '3' });
  assert.deepEqual(
    p!.keys.map((k) => k.name),
    ['a.example/w', 'b.example/w', 'c.example/w'],
  );
  assert.equal(p!.threshold, 3);
  assert.equal((await witnessPolicy({ witnessKey: [a] }))!.threshold, 1);
  await assert.rejects(witnessPolicy({ witnessKey: [a], witnessThreshold: '2' }), {
    message: /--witness-threshold: 2 cosignatures cannot come from 1 witness key/,
  });
  await assert.rejects(witnessPolicy({ witnessKey: [a], witnessThreshold: '0' }), /not a positive/);
  await assert.rejects(witnessPolicy({ witnessThreshold: '1' }), /needs --witness-key/);
  await assert.rejects(
    witnessPolicy({ witnessKey: ['/nonexistent/keys'] }),
    /--witness-key: .*\/nonexistent\/keys/,
  );
  await assert.rejects(witnessPolicy({ witnessKey: ['a+0000000+AAAA'] }), /--witness-key/);
});
