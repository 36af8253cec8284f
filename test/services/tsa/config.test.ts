import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { SignetError } from '../../../src/core/errors.ts';
import {
  encodeTimestampRequest,
  parseTimestamp,
  timestampStatus,
} from '../../../src/core/rfc3161/index.ts';
import { parseTsaConfig } from '../../../src/services/tsa/service.ts';
import { startTsa } from './helpers.ts';

test('config: bad values are refused with the setting named', async () => {
  for (const [config, msg] of [
    [{ acceptedPolicies: [] }, /tsa.acceptedPolicies: must be a non-empty list of dotted OIDs/],
    [{ acceptedPolicies: ['not-an-oid'] }, /tsa.acceptedPolicies/],
    [{ acceptedPolicies: '1.2.3' }, /tsa.acceptedPolicies/],
    [{ includeChain: 'yes' }, /tsa.includeChain: must be true or false/],
  ] as const)
    assert.throws(
      () => parseTsaConfig(config),
      (e: unknown) => e instanceof SignetError && msg.test(e.message),
    );
});

test('config: accepted policies (first is the default) and the whole chain in tokens', async () => {
  const t = await startTsa(undefined, {
    acceptedPolicies: ['1.2.3.4', '1.3.6.1.4.1.57264.2'],
    includeChain: true,
  });
  try {
    const post = (policy?: string) =>
      fetch(`${t.url}/tsa/api/v1/timestamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query' },
        body: encodeTimestampRequest({
          hashAlgorithm: 'sha256',
          digest: createHash('sha256').update('x').digest(),
          certReq: true,
          ...(policy ? { policy } : {}),
        }),
      });
    const def = parseTimestamp(new Uint8Array(await (await post()).arrayBuffer()));
    assert.equal(def.tstInfo.policy, '1.2.3.4');
    assert.equal(def.certificates.length, 2, 'leaf and root');
    const asked = parseTimestamp(
      new Uint8Array(await (await post('1.3.6.1.4.1.57264.2')).arrayBuffer()),
    );
    assert.equal(asked.tstInfo.policy, '1.3.6.1.4.1.57264.2');
    const refused = await post('1.2.3.5');
    assert.equal(refused.status, 200);
    assert.deepEqual(timestampStatus(new Uint8Array(await refused.arrayBuffer())), {
      status: 2,
      statusString:
        'TimeStampReq.reqPolicy: policy 1.2.3.5 is not accepted; this TSA accepts 1.2.3.4, 1.3.6.1.4.1.57264.2',
      failInfo: ['unacceptedPolicy'],
    });
  } finally {
    await t.close();
  }
});
