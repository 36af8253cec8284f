/**
 * The credential cache's agent: a private folder and a 0600 socket, credentials forgotten when
 * their certificate expires, nonsense refused, and a stop that ends it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  agentRequest,
  agentSocketState,
  cachedCredential,
  runAgent,
  type Credential,
} from '../../../src/client/git/agent.ts';

function cred(notAfter: number): Credential {
  return {
    keyPem: '-----BEGIN PRIVATE KEY-----\nnot used here\n-----END PRIVATE KEY-----\n',
    chainPem: ['-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n'],
    services: { caUrl: 'http://127.0.0.1:1/fulcio', tlogs: [], tsaUrls: [] },
    notAfter,
  };
}

function rawRequest(socket: string, line: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(socket, () => s.write(line));
    let buf = '';
    s.on('data', (d: Buffer) => (buf += d.toString()));
    s.on('close', () => resolve(buf));
  });
}

test('the agent listens on a 0600 socket in a 0700 folder, keeps credentials until they expire, and stops', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-agent-'));
  const socket = path.join(base, 'private', 'agent.sock');
  const done = runAgent(socket, { idleMs: 60_000 });
  for (let i = 0; i < 200 && !fs.existsSync(socket); i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(fs.statSync(socket).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(socket)).mode & 0o777, 0o700);

  assert.equal(await cachedCredential(socket, 'http://a'), undefined);
  const live = cred(Date.now() + 600_000);
  assert.deepEqual(
    await agentRequest(socket, { op: 'put', server: 'http://a', credential: live }),
    { ok: true },
  );
  assert.deepEqual(await cachedCredential(socket, 'http://a'), live);
  // A credential about to expire is not handed out; an expired one is forgotten.
  await agentRequest(socket, {
    op: 'put',
    server: 'http://b',
    credential: cred(Date.now() + 10_000),
  });
  assert.equal(await cachedCredential(socket, 'http://b', 30_000), undefined);
  await agentRequest(socket, { op: 'put', server: 'http://c', credential: cred(Date.now() - 1) });
  assert.deepEqual(await agentRequest(socket, { op: 'get', server: 'http://c' }), {
    ok: true,
    credential: null,
  });
  // Nothing to sign with: the program is told to sign in.
  assert.deepEqual(
    await agentRequest(socket, { op: 'sign', server: 'http://none', payload: 'AA==' }),
    { ok: true, signed: null },
  );
  // Nonsense is refused, and the agent keeps serving.
  assert.deepEqual(
    await agentRequest(socket, { op: 'put', server: 'http://a', credential: { keyPem: 1 } }),
    { ok: false, error: 'unknown request' },
  );
  assert.deepEqual(JSON.parse(await rawRequest(socket, 'not json\n')), {
    ok: false,
    error: 'not JSON',
  });
  for (const line of ['null\n', '[1]\n', '"get"\n'])
    assert.deepEqual(JSON.parse(await rawRequest(socket, line)), {
      ok: false,
      error: 'the request is not a JSON object',
    });
  assert.deepEqual(await cachedCredential(socket, 'http://a'), live);

  assert.deepEqual(await agentRequest(socket, { op: 'stop' }), { ok: true });
  await done;
  assert.equal(await agentRequest(socket, { op: 'get', server: 'http://a' }, 500), undefined);
});

test('the agent refuses a socket folder others can open', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-agent-'));
  const open = path.join(base, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o755);
  await assert.rejects(
    runAgent(path.join(open, 'agent.sock')),
    /must be a folder of yours that only you can open \(mode 0700\)/,
  );
  assert.equal(fs.existsSync(path.join(open, 'agent.sock')), false);
});

test('a client talks to no socket in a folder others can open, nor to a socket that is not its own', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-agent-'));
  const open = path.join(base, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  const heard: string[] = [];
  const listen = (socket: string) => {
    const s = net.createServer((c) => c.on('data', (d) => heard.push(d.toString())));
    return new Promise<net.Server>((r) => s.listen(socket, () => r(s)));
  };
  const planted = await listen(path.join(open, 'agent.sock'));
  try {
    const unsafe = /UNSAFE_AGENT_DIR|must be a folder of yours that only you can open/;
    await assert.rejects(
      agentRequest(path.join(open, 'agent.sock'), { op: 'put', server: 'x', credential: cred(1) }),
      unsafe,
    );
    await assert.rejects(cachedCredential(path.join(open, 'agent.sock'), 'x'), unsafe);
    assert.equal(agentSocketState(path.join(base, 'none', 'agent.sock')), 'absent');
  } finally {
    planted.close();
  }
  assert.deepEqual(heard, []);
});

test(
  "a socket in one's own folder that another user owns is not talked to",
  { skip: process.getuid?.() !== 0 && 'needs root to give the socket to another user' },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-agent-'));
    const socket = path.join(dir, 'agent.sock');
    const s = net.createServer(() => {});
    await new Promise<void>((r) => s.listen(socket, r));
    try {
      fs.chownSync(socket, 65534, 65534);
      assert.throws(() => agentSocketState(socket), /must be a socket of yours/);
      fs.chownSync(socket, 0, 0);
      assert.equal(agentSocketState(socket), 'ready');
    } finally {
      s.close();
    }
  },
);
