// /readyz while the PostgreSQL database goes away and comes back: every probe answers, but the
// server's log says it once each way, with the reason (a load balancer probes every second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startStack } from '../../src/services/stack.ts';
import { jsonLogger } from '../../src/services/logger.ts';
import { freshDatabase, postgresProxy } from '../helpers/postgres.ts';

test('/readyz: a database that goes away is logged once with the reason, and once when it is back', async () => {
  const db = await freshDatabase();
  const proxy = await postgresProxy(db.url);
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-readyz-'));
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: proxy.via,
    log: jsonLogger(stream),
    accessLog: false,
  });
  // The readiness lines written so far (info lines are written at the end of a turn).
  const said = async () => {
    await new Promise((r) => setImmediate(r));
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { level: string; msg: string; [k: string]: unknown })
      .filter((l) => l.msg === 'not ready' || l.msg === 'ready again');
  };
  const readyz = async () => {
    const r = await fetch(`${stack.url}/readyz`);
    return { status: r.status, body: (await r.json()) as { message?: string } };
  };
  try {
    assert.equal((await readyz()).status, 200);
    assert.deepEqual(await said(), [], 'nothing said while ready');
    await proxy.cut();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await readyz());
    for (const a of answers) assert.equal(a.status, 503, JSON.stringify(a.body));
    const down = await said();
    assert.equal(down.length, 1, JSON.stringify(down));
    const { time, ...line } = down[0]!;
    assert.ok(!Number.isNaN(Date.parse(String(time))));
    assert.deepEqual(line, {
      level: 'warn',
      msg: 'not ready',
      services: ['ctlog', 'rekor'],
      reason: answers[0]!.body.message!.replace(/^not ready: /, ''),
    });
    assert.match(
      line.reason,
      /^ctlog: the log's PostgreSQL database cannot be reached: .+; rekor: the log's PostgreSQL database cannot be reached: /,
    );
    await proxy.restore();
    const deadline = Date.now() + 30_000;
    while ((await readyz()).status !== 200) {
      assert.ok(Date.now() < deadline, 'not ready again within 30 s of the database coming back');
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < 3; i++) assert.equal((await readyz()).status, 200);
    const back = await said();
    assert.deepEqual(
      back.map((l) => [l.level, l.msg]),
      [
        ['warn', 'not ready'],
        ['info', 'ready again'],
      ],
    );
  } finally {
    await stack.close();
    await proxy.cut(); // it listens again since restore
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
