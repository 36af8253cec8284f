import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { approveDeviceCode, tempStack } from '../helpers/stack.ts';
import { createIdentityVerifier } from '../../src/services/ca/identity/verifier.ts';
import { defaultCaIssuerConfig } from '../../src/services/oidc/ca-issuers.ts';

const bin = path.resolve('bin/signet');
let stack: Awaited<ReturnType<typeof tempStack>>;
before(async () => {
  stack = await tempStack();
});
after(async () => stack.close());

function signet(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SIGNET_SERVER: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.once('error', reject);
    c.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test("signet token prints a token the stack's CA configuration accepts (email and GitHub shapes)", async () => {
  const verifier = createIdentityVerifier(defaultCaIssuerConfig(stack.url));
  const email = await signet(['token', '--server', stack.url, '--subject', 'dev@signet.local']);
  assert.equal(email.code, 0, email.stderr);
  const p = await verifier.verify(email.stdout.trim());
  assert.deepEqual(p.san, { type: 'email', value: 'dev@signet.local' });
  assert.equal(p.issuer, `${stack.url}/oidc`);

  const gh = await signet([
    'token',
    '--server',
    stack.url,
    '--issuer',
    'github',
    '--subject',
    'signet-dev/demo',
  ]);
  assert.equal(gh.code, 0, gh.stderr);
  const g = await verifier.verify(gh.stdout.trim());
  assert.equal(g.extensions[12], 'https://github.com/signet-dev/demo');
});

test('signet token: bad flags and unknown identities give one clear line, exit 1', async () => {
  const unknown = await signet(['token', '--server', stack.url, '--subject', 'nobody@x.y']);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /no email identity named "nobody@x.y" is configured \(configured: dev@signet.local\)/,
  );
  const flavor = await signet([
    'token',
    '--server',
    stack.url,
    '--issuer',
    'myspace',
    '--subject',
    'x',
  ]);
  assert.equal(flavor.code, 1);
  assert.match(flavor.stderr, /--issuer: "myspace" is not one of email, github/);
  const noServer = await signet(['token', '--subject', 'x']);
  assert.equal(noServer.code, 1);
  assert.match(noServer.stderr, /--server: is required/);
  const aud = await signet([
    'token',
    '--server',
    stack.url,
    '--subject',
    'dev@signet.local',
    '--audience',
    'other',
  ]);
  assert.equal(aud.code, 0);
  const claims = JSON.parse(Buffer.from(aud.stdout.trim().split('.')[1]!, 'base64url').toString());
  assert.equal(claims.aud, 'other');
  assert.doesNotMatch(unknown.stderr + flavor.stderr, /at .*\.ts:\d+/);
});

test('signet token --flow device: prints the code, waits for approval, prints the token', async () => {
  const c = spawn(bin, ['token', '--server', stack.url, '--flow', 'device'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SIGNET_SERVER: '' },
  });
  let stdout = '';
  let stderr = '';
  c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<string>((resolve) => {
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(stderr);
      if (m) resolve(m[1]!);
    });
  });
  await approveDeviceCode(stack.url, code);
  const exit = await new Promise<number | null>((resolve) => c.once('close', resolve));
  assert.equal(exit, 0, stderr);
  const p = await createIdentityVerifier(defaultCaIssuerConfig(stack.url)).verify(stdout.trim());
  assert.equal(p.challenge, 'dev@signet.local');
});

test('signet token: a token endpoint that answers JSON null or a non-object, a 503, or not at all: one line each', async () => {
  let status = 200;
  let answer = 'null';
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(answer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const a of ['null', '"text"', '[1]']) {
      answer = a;
      const r = await signet(['token', '--server', url, '--subject', 'dev@signet.local']);
      assert.equal(r.code, 1, a);
      assert.match(r.stderr, /^error: .* refused: HTTP 200\n$/, a);
    }
    // Not an OAuth error answer (RFC 6749 §5.2 uses 400 and 401): the status and its text.
    status = 503;
    answer = 'down for maintenance';
    const busy = await signet(['token', '--server', url, '--subject', 'dev@signet.local']);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      new RegExp(
        `^error: the identity provider at ${url}/oidc/token answered HTTP 503: ${answer}\n$`,
      ),
    );
  } finally {
    server.close();
  }
  const gone = await signet(['token', '--server', url, '--subject', 'dev@signet.local']);
  assert.equal(gone.code, 1);
  assert.match(
    gone.stderr,
    new RegExp(
      `^error: cannot reach the identity provider at ${url}/oidc/token: nothing is listening`,
    ),
  );
});

test('signet token loads no undici (it runs before each local signing)', async () => {
  const report = `process.on('exit', () => process.stderr.write('UNDICI ' + JSON.stringify(process.moduleLoadList.filter((m) => /undici/.test(m))) + '\\n'))`;
  const r = await signet(['token', '--server', stack.url, '--subject', 'dev@signet.local'], {
    NODE_OPTIONS: `--import data:text/javascript,${encodeURIComponent(report)}`,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ey/);
  assert.match(r.stderr, /^UNDICI \[\]\n$/);
});
