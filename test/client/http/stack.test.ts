// The HTTP clients against the real services of a running stack (test/helpers/stack.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { tempStack } from '../../helpers/stack.ts';
import { fetchTimestamp } from '../../../src/client/http/tsa.ts';
import { parseTimestamp, verifyTimestamp } from '../../../src/core/rfc3161/index.ts';
import { decodePemAll } from '../../../src/core/encoding/pem.ts';
import { SignetError } from '../../../src/core/errors.ts';

const stack = await tempStack();
after(() => stack.close());

test('TSA: timestamps over the signature from its endpoint or its base URL verify with its chain', async () => {
  const chainPem = await (await fetch(`${stack.url}/tsa/api/v1/timestamp/certchain`)).text();
  const certChain = decodePemAll(chainPem, 'certchain').map((b) => b.der);
  const signature = new TextEncoder().encode('a signature to timestamp');
  // The signing config's URL, and the base URL of the service (asked as given: a 404 there).
  for (const url of [`${stack.url}/tsa/api/v1/timestamp`, `${stack.url}/tsa`]) {
    const der = await fetchTimestamp(url, signature);
    const v = verifyTimestamp(der, signature, [{ certChain, validFor: { start: new Date(0) } }]);
    assert.ok(Math.abs(v.genTime.getTime() - Date.now()) < 60_000, url);
    assert.equal(typeof parseTimestamp(der).tstInfo.nonce, 'bigint', url); // a DER request's
    assert.throws(
      () =>
        verifyTimestamp(der, new Uint8Array([1]), [
          { certChain, validFor: { start: new Date(0) } },
        ]),
      (e: unknown) => e instanceof SignetError && e.kind === 'verification',
    );
  }
});

test('TSA: a wrong path surfaces the 404 clearly', async () => {
  await assert.rejects(
    fetchTimestamp(`${stack.url}/tsa/api/v9/timestamp`, new Uint8Array([1])),
    /the timestamp authority at .*\/tsa\/api\/v9\/timestamp answered HTTP 404/,
  );
  await assert.rejects(
    fetchTimestamp(`${stack.url}/nothing`, new Uint8Array([1])),
    /at .*\/nothing answered HTTP 404 \(and at .*\/nothing\/api\/v1\/timestamp HTTP 404\): no timestamp authority there$/,
  );
});
