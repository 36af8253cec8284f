import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const root = path.join(import.meta.dirname, '..', '..', '..');

test('the signing path loads no undici, webcrypto or fs/promises (ES imports of node:http, node:crypto, node:fs would)', () => {
  // In a fresh process: what `signet sign-blob` imports before its first request.
  const modules = [
    'src/cli/commands/sign-blob.ts',
    'src/client/sign/index.ts',
    'src/client/sign/setup.ts',
    'src/client/sign/sign.ts',
    'src/client/identity/index.ts',
    'src/services/http/outbound.ts',
    'src/client/tuf/index.ts',
  ].map((m) => new URL(path.join(root, m), 'file://').href);
  // And what its file steps load when they run: the bundle's folder check and the write.
  const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-startup-')), 'b.json');
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `for (const m of ${JSON.stringify(modules)}) await import(m);
       const sb = await import(${JSON.stringify(modules[0])});
       await sb.checkBundleTarget(${JSON.stringify(bundle)});
       await sb.writeBundleOutput('{}', ${JSON.stringify(bundle)});
       console.log(JSON.stringify(process.moduleLoadList.filter((m) => /undici|webcrypto|fs.promises/.test(m))));`,
    ],
    { encoding: 'utf8' },
  );
  assert.deepEqual(JSON.parse(out), []);
});
