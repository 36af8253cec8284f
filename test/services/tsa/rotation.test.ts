import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  encodeTimestampRequest,
  parseTimestamp,
  verifyTimestamp,
} from '../../../src/core/rfc3161/index.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { authoritiesOf, startTsa } from './helpers.ts';

const data = Buffer.from('signature');
const req = encodeTimestampRequest({
  hashAlgorithm: 'sha256',
  digest: createHash('sha256').update(data).digest(),
});

async function stamp(url: string): Promise<Uint8Array> {
  const res = await fetch(`${url}/tsa/api/v1/timestamp`, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: req,
  });
  assert.equal(res.status, 200);
  return new Uint8Array(await res.arrayBuffer());
}

test('keys and certificates are created once with 0600 and reused after a restart', async () => {
  const a = await startTsa();
  const chain1 = a.tsa.authority.currentChain();
  const token = await stamp(a.url);
  await a.close();
  for (const f of [
    'keys/tsa/1.pem',
    'keys/tsa/1.chain.pem',
    'keys/tsa-ca/1.pem',
    'keys/tsa-ca/1.crt.pem',
  ])
    assert.equal(fs.statSync(path.join(a.dataDir, f)).mode & 0o777, 0o600, f);
  const b = await startTsa(a.dataDir);
  try {
    assert.deepEqual(
      b.tsa.authority.currentChain().map((c) => Buffer.from(c)),
      chain1.map((c) => Buffer.from(c)),
    );
    verifyTimestamp(token, data, await authoritiesOf(b.tsa));
  } finally {
    await b.close();
  }
});

test('rotation: after a restart the trust lists both keys with windows; old and new tokens verify', async () => {
  const a = await startTsa();
  const oldToken = await stamp(a.url);
  const oldChain = a.tsa.authority.currentChain();
  await a.close();
  // Windows are whole seconds (genTime has no fraction): rotate on a later second than issuance.
  await new Promise((r) => setTimeout(r, 1100));
  KeyRing.rotate(a.dataDir, 'tsa');
  const b = await startTsa(a.dataDir);
  try {
    const newChain = b.tsa.authority.currentChain();
    assert.notDeepEqual(Buffer.from(newChain[0]!), Buffer.from(oldChain[0]!));
    // Same TSA root, new leaf.
    assert.deepEqual(Buffer.from(newChain[1]!), Buffer.from(oldChain[1]!));
    const trust = (await b.tsa.trust!()).timestampAuthorities as Array<{
      validFor: { start: string; end?: string };
    }>;
    assert.equal(trust.length, 2);
    assert.ok(trust[0]!.validFor.end, 'the old key has an end');
    assert.equal(trust[1]!.validFor.end, undefined);
    assert.ok(Date.parse(trust[1]!.validFor.start) <= Date.parse(trust[0]!.validFor.end!));
    const auth = await authoritiesOf(b.tsa);
    const oldV = verifyTimestamp(oldToken, data, auth);
    assert.equal(oldV.authorityIndex, 0);
    const newToken = await stamp(b.url);
    const newV = verifyTimestamp(newToken, data, auth);
    assert.equal(newV.authorityIndex, 1);
    // The new token is signed by the new key only: the old entry alone does not vouch for it.
    assert.throws(() => verifyTimestamp(newToken, data, [auth[0]!]), /TIMESTAMP|timestamp/);
    // And an old-key token dated after the old window closed would not verify.
    const late = {
      ...auth[0]!,
      validFor: {
        start: auth[0]!.validFor.start,
        end: new Date(parseTimestamp(oldToken).tstInfo.genTime.getTime() - 1000),
      },
    };
    assert.throws(
      () => verifyTimestamp(oldToken, data, [late, auth[1]!]),
      /no timestamp authority|not signed/,
    );
  } finally {
    await b.close();
  }
});
