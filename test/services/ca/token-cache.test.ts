import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CachedVerifier } from '../../../src/services/ca/token-cache.ts';
import type { IdentityVerifier, Principal } from '../../../src/services/ca/identity/types.ts';

function jwt(payload: Record<string, unknown>): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'ES256' })}.${b(payload)}.sig`;
}

/** Counts calls; accepts tokens whose payload has `ok: true` (the real verifier is tested elsewhere). */
function counting(): IdentityVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verify(token: string): Promise<Principal> {
      v.calls++;
      const p = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
        ok?: boolean;
        sub: string;
      };
      if (!p.ok) throw new Error('rejected');
      return {
        issuer: 'i',
        subject: p.sub,
        challenge: p.sub,
        san: { type: 'uri', value: p.sub },
        extensions: {},
      };
    },
  };
  return v;
}

test('a verified token is reused until it expires; failures are never cached', async () => {
  let now = 1_000_000_000_000;
  const inner = counting();
  const c = new CachedVerifier(inner, { now: () => now });
  const good = jwt({ ok: true, sub: 'a', exp: now / 1000 + 60 });
  assert.equal((await c.verify(good)).subject, 'a');
  assert.equal((await c.verify(good)).subject, 'a');
  assert.equal(inner.calls, 1);
  now += 61_000; // past exp: checked again (and the inner verifier decides)
  await c.verify(good);
  assert.equal(inner.calls, 2);
  const bad = jwt({ ok: false, sub: 'b', exp: now / 1000 + 60 });
  await assert.rejects(c.verify(bad));
  await assert.rejects(c.verify(bad));
  assert.equal(inner.calls, 4);
  // A token differing in one byte is a different token.
  await c.verify(good.replace(/sig$/, 'sih'));
  assert.equal(inner.calls, 5);
});

test('the cache is bounded', async () => {
  const now = 1_000_000_000_000;
  const inner = counting();
  const c = new CachedVerifier(inner, { now: () => now, maxEntries: 2 });
  const t = (s: string) => jwt({ ok: true, sub: s, exp: now / 1000 + 60 });
  await c.verify(t('1'));
  await c.verify(t('2'));
  await c.verify(t('3')); // evicts '1'
  await c.verify(t('3'));
  assert.equal(inner.calls, 3);
  await c.verify(t('1'));
  assert.equal(inner.calls, 4);
});
