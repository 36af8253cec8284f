// The library's sign() takes its key as a file's path: PEM text or a KeyObject there is refused
// in one line that does not print the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sign } from '../../src/index.ts';
import { SignetError } from '../../src/core/errors.ts';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
// A signing config naming no service: the key is read before anything is asked of one.
const signingConfig = path.join(
  fs.mkdtempSync(path.join(os.tmpdir(), 'signet-sign-in-')),
  'sc.json',
);
fs.writeFileSync(
  signingConfig,
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [],
    oidcUrls: [],
    rekorTlogUrls: [],
    tsaUrls: [],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  }),
);

test('sign({ key }) with PEM text or a KeyObject: a clear error, and the key is not in it', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [
      pem,
      /^options\.key: PEM text was given where a file's path goes \(it is not printed\): give the path of the file that holds it$/,
    ],
    [privateKey, /^options\.key: is an object; give the path of the private key file$/],
  ];
  for (const [key, message] of cases)
    await assert.rejects(
      sign(new Uint8Array([1]), {
        key: key as string,
        tlogUpload: false,
        signingConfig,
      }),
      (e: unknown) => {
        assert.ok(e instanceof SignetError, String(e));
        assert.match(e.message, message);
        assert.ok(!e.message.includes(pem.split('\n')[1]!.slice(0, 20)));
        return true;
      },
    );
});
