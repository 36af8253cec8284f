import assert from 'node:assert/strict';
import { createHash, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { ecPointOf } from '../../../src/core/crypto/verify.ts';
import { VerifyQueue } from '../../../src/services/rekor/verify-queue.ts';
import { ecSigner } from './fixtures.ts';

function items(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const s = ecSigner();
    const msg = Buffer.from(`queue ${i}`);
    const digest = new Uint8Array(createHash('sha256').update(msg).digest());
    if (i % 3 === 0) digest[0]! ^= 1; // every third one is wrong
    return {
      item: {
        point: ecPointOf(s.publicKey, 'P-256')!,
        details: 'PKIX_ECDSA_P256_SHA_256' as const,
        digest,
        signature: new Uint8Array(sign('sha256', msg, s.privateKey)),
      },
      ok: i % 3 !== 0,
    };
  });
}

describe('VerifyQueue', () => {
  for (const workers of [0, 2]) {
    it(`concurrent checks are batched and answered each with its own result (workers=${workers})`, async () => {
      const q = new VerifyQueue({ workers, maxBatch: 16 });
      try {
        const list = items(60);
        const got = await Promise.all(list.map((x) => q.verify(x.item)));
        assert.deepEqual(
          got,
          list.map((x) => x.ok),
        );
      } finally {
        await q.close();
      }
    });
  }

  it('items whose bytes are views into a shared buffer (as decoded request fields are) get their own results', async () => {
    const q = new VerifyQueue({ workers: 1 });
    try {
      const list = items(12);
      // one shared ArrayBuffer with every digest and signature at an odd offset, like pool slabs
      const shared = Buffer.alloc(64 * 1024);
      let at = 3;
      const view = (b: Uint8Array) => {
        shared.set(b, at);
        const v = shared.subarray(at, at + b.length);
        at += b.length + 5;
        return v;
      };
      const got = await Promise.all(
        list.map((x) =>
          q.verify({ ...x.item, digest: view(x.item.digest), signature: view(x.item.signature) }),
        ),
      );
      assert.deepEqual(
        got,
        list.map((x) => x.ok),
      );
    } finally {
      await q.close();
    }
  });
});
