import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SignetError } from '../../../src/core/errors.ts';
import { parseTufConfig, tufService } from '../../../src/services/tuf/service.ts';
import { createService, serviceContext } from '../context.ts';

const create = (config: Record<string, unknown>) =>
  createService(
    tufService,
    serviceContext({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tuf-cfg-')) }),
    config,
  );

test('tuf.lifetimes: bad values are refused with the setting named', async () => {
  for (const [lifetimes, msg] of [
    ['7', /tuf.lifetimes: must be an object/],
    [{ mirror: 1 }, /tuf.lifetimes.mirror: unknown role/],
    [{ timestamp: 0 }, /tuf.lifetimes.timestamp: must be a positive number of days/],
    [{ snapshot: '7' }, /tuf.lifetimes.snapshot: must be a positive number of days/],
  ] as const)
    assert.throws(
      () => parseTufConfig({ lifetimes }),
      (e: unknown) => e instanceof SignetError && msg.test(e.message),
    );
});

test('tuf.lifetimes sets the expiry of each role', async () => {
  const t = await create({ lifetimes: { timestamp: 0.5, snapshot: 2, targets: 30, root: 100 } });
  try {
    const days = (role: 'timestamp' | 'snapshot' | 'targets' | 'root') => {
      const md = t.repository[role]!;
      return (Date.parse(md.signed.expires) - Date.now()) / 86400e3;
    };
    assert.ok(Math.abs(days('timestamp') - 0.5) < 0.01);
    assert.ok(Math.abs(days('snapshot') - 2) < 0.01);
    assert.ok(Math.abs(days('targets') - 30) < 0.01);
    assert.ok(Math.abs(days('root') - 100) < 0.01);
  } finally {
    await t.close();
  }
});

test('GET /tuf/timestamp.json never hands out a timestamp past half its life: it is re-signed on demand', async () => {
  const { createApp } = await import('../../../src/services/http/app.ts');
  const t = await create({ lifetimes: { timestamp: 4 / 86400 } }); // four seconds
  const app = createApp();
  await app.register(async (scope) => t.register(scope), { prefix: t.prefix });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const get = async () =>
      (await (await fetch(`${url}/tuf/timestamp.json`)).json()) as {
        signed: { version: number; expires: string };
      };
    // Whatever the setup took: what is served is not past half its life (2 s; 1 s left for the way)...
    const first = await get();
    assert.ok(Date.parse(first.signed.expires) - Date.now() > 1000, first.signed.expires);
    // ...and once that copy is past half its life, a newer one is signed and served instead.
    await new Promise((r) =>
      setTimeout(r, Date.parse(first.signed.expires) - 2000 - Date.now() + 100),
    );
    const second = await get();
    assert.ok(second.signed.version > first.signed.version, `${second.signed.version}`);
    assert.ok(Date.parse(second.signed.expires) - Date.now() > 1000, second.signed.expires);
  } finally {
    await app.close();
    await t.close();
  }
});
