// A path the stack serves, asked with a method it does not take, is a 405 naming the methods it
// does take (RFC 9110 §15.5.6: Allow is required), in the one error shape; an unknown path stays
// a 404.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { tempStack } from '../../helpers/stack.ts';
import { startWitness } from '../../../src/services/witness/server.ts';

const stack = await tempStack();
after(() => stack.close());

async function answer(
  base: string,
  method: string,
  path: string,
): Promise<{ status: number; allow: string | null; body: Record<string, unknown> }> {
  const r = await fetch(`${base}${path}`, { method });
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  return {
    status: r.status,
    allow: r.headers.get('allow'),
    body: (await r.json()) as Record<string, unknown>,
  };
}

test('a known path with another method: 405, Allow, and the error shape', async () => {
  for (const [method, path, allow] of [
    ['DELETE', '/fulcio/api/v2/signingCert', 'POST'],
    ['GET', '/fulcio/api/v2/signingCert', 'POST'],
    ['PUT', '/tsa/api/v1/timestamp', 'POST'],
    ['GET', '/rekor/api/v2/log/entries', 'POST'],
    ['DELETE', '/rekor/api/v1/log/entries', 'GET, HEAD, POST'],
    // parameters, wildcards and a query are matched as the router matches them
    ['PATCH', '/rekor/api/v1/log/entries/abc?x=1', 'GET, HEAD'],
    ['POST', '/rekor/tile/0/000', 'GET, HEAD'],
    ['POST', '/tuf/1.root.json', 'GET, HEAD'],
    ['GET', '/oidc/token', 'POST'],
  ] as const) {
    const got = await answer(stack.url, method, path);
    const where = `${method} ${path}`;
    assert.equal(got.status, 405, where);
    assert.equal(got.allow, allow, where);
    assert.equal(got.body['code'], 405, where);
    assert.equal(got.body['error'], 'METHOD_NOT_ALLOWED', where);
    assert.equal(
      got.body['message'],
      `${method} is not allowed on ${path.split('?')[0]} (allowed: ${allow})`,
      where,
    );
  }
});

test('an unknown path is a 404 whatever the method; a served method is routed as before', async () => {
  for (const method of ['GET', 'POST', 'DELETE']) {
    const got = await answer(stack.url, method, '/rekor/api/v1/no-such-thing');
    assert.equal(got.status, 404, method);
    assert.equal(got.allow, null, method);
    assert.equal(got.body['error'], 'NOT_FOUND', method);
  }
  // GET /rekor/api/v1/log/entries is Rekor's entry-by-index lookup: its own 400, not a 405
  const byIndex = await answer(stack.url, 'GET', '/rekor/api/v1/log/entries');
  assert.equal(byIndex.status, 400);
  assert.equal(byIndex.body['field'], 'logIndex');
});

test('every app made by createApp answers so: the witness', async () => {
  const quiet = { info() {}, warn() {}, error() {} };
  const w = await startWitness({
    port: 0,
    host: '127.0.0.1',
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-witness-')),
    name: 'example.com/witness',
    logs: [],
    log: quiet,
  });
  try {
    const got = await answer(w.url, 'GET', '/add-checkpoint');
    assert.equal(got.status, 405);
    assert.equal(got.allow, 'POST');
    assert.equal(got.body['error'], 'METHOD_NOT_ALLOWED');
    assert.equal((await answer(w.url, 'GET', '/no/such/path')).status, 404);
  } finally {
    await w.close();
  }
});
