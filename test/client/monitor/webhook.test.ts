import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook, SIGNATURE_HEADER, signBody } from '../../../src/client/monitor/alerts.ts';
import type { LogAlert } from '../../../src/client/monitor/alerts.ts';

const alert: LogAlert = {
  type: 'log',
  id: 'a1',
  log: 'http://127.0.0.1:1/rekor',
  problem: 'inconsistent',
  message: 'the checkpoint of size 3 is not consistent with size 2',
  verified: { size: 2, rootHash: 'aa' },
  seen: { size: 3, rootHash: 'bb' },
};

/** A receiver on loopback that answers each delivery with the next of `answers`. */
async function receiver(answers: Array<{ status: number; body?: string }>) {
  const got: Array<{ body: string; headers: http.IncomingHttpHeaders }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ body, headers: req.headers });
      const a = answers[Math.min(got.length, answers.length) - 1]!;
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('a webhook that fails is retried, and each failure says what the receiver answered', async () => {
  const r = await receiver([{ status: 500, body: 'busy' }, { status: 204 }]);
  const failures: string[] = [];
  try {
    const ok = await postWebhook(
      { url: r.url, secret: 's3cret' },
      alert,
      { attempts: 3, backoffMs: 5 },
      (m) => failures.push(m),
    );
    assert.equal(ok, true);
    assert.deepEqual(failures, [
      `the webhook at ${r.url} answered HTTP 500: busy (attempt 1 of 3)`,
    ]);
    assert.equal(r.got.length, 2);
    const body = JSON.stringify(alert);
    for (const g of r.got) {
      assert.equal(g.body, body);
      assert.equal(g.headers['content-type'], 'application/json');
      assert.equal(g.headers['x-signet-alert-id'], 'a1');
      assert.equal(g.headers[SIGNATURE_HEADER], signBody('s3cret', body));
    }
  } finally {
    await r.close();
  }
});

test('a webhook that never takes the alert: every attempt is named, then false', async () => {
  const r = await receiver([{ status: 302 }]);
  const failures: string[] = [];
  try {
    const ok = await postWebhook(
      { url: r.url, secret: undefined },
      alert,
      { attempts: 2, backoffMs: 5 },
      (m) => failures.push(m),
    );
    assert.equal(ok, false);
    // A redirect is not followed: the alert would go where the receiver says.
    assert.equal(failures.length, 2);
    for (const [i, m] of failures.entries())
      assert.match(
        m,
        new RegExp(`^cannot reach the webhook at ${r.url}: .*\\(attempt ${i + 1} of 2\\)$`),
      );
  } finally {
    await r.close();
  }
  // Nothing listening any more.
  const gone: string[] = [];
  assert.equal(
    await postWebhook({ url: r.url, secret: undefined }, alert, { attempts: 1 }, (m) =>
      gone.push(m),
    ),
    false,
  );
  assert.match(gone[0]!, /nothing is listening/);
});
