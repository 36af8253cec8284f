/**
 * The interop tests' guard (requireServices): a test file that needs a service must fail when
 * the stack lacks it, never skip itself or pass quietly (issue 8, "Tests that can fail").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireServices } from './stack.ts';

/** A real loopback server answering /healthz with `status` and `body`. */
async function healthz(status: number, body: unknown): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? status : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

test('requireServices passes only when /healthz lists every service asked for', async () => {
  const s = await healthz(200, { status: 'ok', services: ['oidc', 'ca', 'rekor'] });
  try {
    await requireServices(s.url, ['oidc', 'rekor']);
    await assert.rejects(
      requireServices(s.url, ['oidc', 'tsa', 'tuf']),
      /the stack lacks tsa, tuf \(has: oidc, ca, rekor\)/,
    );
  } finally {
    s.close();
  }
});

test('requireServices fails when /healthz does not answer 200', async () => {
  const s = await healthz(503, { status: 'starting', services: ['oidc'] });
  try {
    await assert.rejects(requireServices(s.url, ['oidc']), /healthz answered 503/);
  } finally {
    s.close();
  }
});
