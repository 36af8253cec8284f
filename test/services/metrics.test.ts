// /metrics (Prometheus text format, prom-client) and the access log of a running stack:
// requests by route and status with latency, log size, checkpoint age and pending appends per
// log, certificates and timestamps issued, token failures by reason; one access-log line per
// request with method, route, status, latency and request id, and never a token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashedrekordV001 } from '../../src/client/http/rekor-v1.ts';
import { encodeTimestampRequest, timestampStatus } from '../../src/core/rfc3161/index.ts';
import { startStack } from '../../src/services/stack.ts';
import { signet, stackToken } from '../interop/sign-helpers.ts';

function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('metrics count requests, certificates, timestamps, token failures and log state; the access log has one line per request and no secrets', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = {
    info: (msg: string, f?: Record<string, unknown>) => void lines.push({ msg, ...f }),
    warn() {},
    error() {},
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-metrics-'));
  const stack = await startStack({ port: 0, host: '127.0.0.1', dataDir, log });
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-metrics-sign-'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'measured\n');
    const token = await stackToken(stack.url);
    const r = await signet(
      [
        'sign-blob',
        '--server',
        stack.url,
        '--rekor-version',
        '2',
        '--identity-token',
        token,
        '--bundle',
        'a.json',
        'a.txt',
      ],
      { cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const refused = await fetch(`${stack.url}/fulcio/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-jwt' },
      body: JSON.stringify({ certificateSigningRequest: 'x' }),
    });
    assert.equal(refused.status, 401);
    const ts = await fetch(`${stack.url}/tsa/api/v1/timestamp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        artifactHash: createHash('sha256').update('x').digest('base64'),
        hashAlgorithm: 'sha256',
      }),
    });
    assert.equal(ts.status, 200);
    // A refused DER request is answered with 200 too (a TimeStampResp with status rejection),
    // and is no timestamp issued.
    const rejected = await fetch(`${stack.url}/tsa/api/v1/timestamp`, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: encodeTimestampRequest({
        hashAlgorithm: 'sha256',
        digest: createHash('sha256').update('x').digest(),
        policy: '1.2.3.4',
      }),
    });
    assert.equal(timestampStatus(new Uint8Array(await rejected.arrayBuffer()))?.status, 2);

    const res = await fetch(`${stack.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const req = (route: string, status: number, method = 'POST') =>
      metric(
        text,
        'signet_http_request_duration_seconds_count',
        `method="${method}",route="${route}",status="${status}"`,
      );
    assert.equal(req('/fulcio/api/v2/signingCert', 200), 1);
    assert.equal(req('/fulcio/api/v2/signingCert', 401), 1);
    assert.equal(req('/oidc/token', 200), 1);
    assert.ok(
      text.includes(
        'signet_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/fulcio/api/v2/signingCert",status="200"}',
      ),
    );
    assert.equal(metric(text, 'signet_certificates_issued_total'), 1);
    assert.equal(metric(text, 'signet_timestamps_issued_total'), 2); // sign-blob's and ours
    assert.equal(
      metric(text, 'signet_token_verification_failures_total', 'reason="TOKEN_MALFORMED"'),
      1,
    );
    assert.equal(metric(text, 'signet_log_entries', 'log="rekor-1"'), 1);
    assert.equal(metric(text, 'signet_log_entries', 'log="ctlog"'), 1);
    assert.equal(metric(text, 'signet_log_pending_appends', 'log="rekor-1"'), 0);
    const age = metric(text, 'signet_log_checkpoint_age_seconds', 'log="rekor-1"')!;
    assert.ok(age >= 0 && age < 60, String(age));
    assert.ok(metric(text, 'process_resident_memory_bytes')! > 0);

    // The access log: one line per request, the route pattern, and nothing of the token.
    const access = lines.filter((l) => l.msg === 'request');
    const ca = access.filter((l) => l.route === '/fulcio/api/v2/signingCert');
    assert.equal(ca.length, 2);
    assert.deepEqual(Object.keys(ca[0]!).sort(), [
      'method',
      'ms',
      'msg',
      'requestId',
      'route',
      'status',
    ]);
    assert.deepEqual(
      ca.map((l) => l.status),
      [200, 401],
    );
    assert.ok(typeof ca[0]!.ms === 'number' && typeof ca[0]!.requestId === 'string');
    const all = JSON.stringify(lines);
    assert.ok(!all.includes(token.split('.')[1]!), 'a token reached the log');
    assert.ok(!all.includes('not-a-jwt'));
  } finally {
    await stack.close();
  }
});

test('the access log can be turned off (accessLog: false)', async () => {
  const lines: string[] = [];
  const log = { info: (m: string) => void lines.push(m), warn() {}, error() {} };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-metrics-'));
  const stack = await startStack({ port: 0, host: '127.0.0.1', dataDir, log, accessLog: false });
  try {
    assert.equal((await fetch(`${stack.url}/healthz`)).status, 200);
    assert.ok(!lines.includes('request'));
  } finally {
    await stack.close();
  }
});

test('the log gauges move: checkpoint age grows while nothing is logged, pending appends count a waiting batch, then size grows and age starts again', async () => {
  const quiet = { info() {}, warn() {}, error() {} };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-metrics-'));
  // An idle sequencer waits batchMaxAgeMs to gather a batch: long enough to scrape meanwhile.
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    log: quiet,
    config: { rekor: { batchMaxAgeMs: 4000 } },
  });
  const scrape = async () => (await fetch(`${stack.url}/metrics`)).text();
  const gauge = (text: string, name: string) => metric(text, name, 'log="rekor-1"')!;
  try {
    const s0 = await scrape();
    await new Promise((r) => setTimeout(r, 1100));
    const s1 = await scrape();
    const age0 = gauge(s0, 'signet_log_checkpoint_age_seconds');
    const age1 = gauge(s1, 'signet_log_checkpoint_age_seconds');
    assert.ok(age1 >= age0 + 1, `age ${age0} then ${age1}`);
    assert.equal(gauge(s1, 'signet_log_pending_appends'), 0);

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const artifact = Buffer.from('pending');
    const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const appendStart = Date.now();
    const append = fetch(`${stack.url}/rekor/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        hashedrekordV001({
          digest: createHash('sha256').update(artifact).digest(),
          signature: sign('sha256', artifact, privateKey),
          verifierPem: pem,
        }),
      ),
    });
    append.catch(() => {}); // a failed assertion below is the error reported, not this request's
    // The append is counted once the server has read and checked it (a loaded machine may take
    // a while); the batch waits batchMaxAgeMs from then, so it is still pending.
    let s2 = await scrape();
    for (let i = 0; i < 100 && gauge(s2, 'signet_log_pending_appends') === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s2 = await scrape();
    }
    assert.equal(gauge(s2, 'signet_log_pending_appends'), 1);
    assert.equal(gauge(s2, 'signet_log_entries'), 0);
    assert.equal((await append).status, 201);
    // The age counts from when the checkpoint was made, not from the scrape that saw it.
    await new Promise((r) => setTimeout(r, 600));
    const s3 = await scrape();
    assert.equal(gauge(s3, 'signet_log_pending_appends'), 0);
    assert.equal(gauge(s3, 'signet_log_entries'), 1);
    const age3 = gauge(s3, 'signet_log_checkpoint_age_seconds');
    // Counted from the new checkpoint: at least the 600 ms waited, at most since the append.
    const sinceAppend = (Date.now() - appendStart) / 1000;
    assert.ok(age3 >= 0.5 && age3 <= sinceAppend, `age ${age3}, append ${sinceAppend} s ago`);
  } finally {
    await stack.close();
  }
});
