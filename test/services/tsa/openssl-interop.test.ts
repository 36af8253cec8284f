// Independent RFC 3161 implementations, on loopback: OpenSSL's `ts` command against Signet's TSA
// (it must read the reason of a rejection), and Signet's TSA client against OpenSSL's own
// responder (`openssl ts -reply`), whose timestamps it must get and whose refusals it must
// report in one line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { fetchTimestamp } from '../../../src/client/http/tsa.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { bool, ctx, integer, octets, oid, readOne, seq } from '../../../src/core/encoding/der.ts';
import { startTsa } from './helpers.ts';
import { startOpensslTsa } from '../../helpers/openssl-tsa.ts';

const run = promisify(execFile);
/** Runs openssl without blocking the event loop (the TSA answering it is in this process). */
async function openssl(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run('openssl', args, { cwd, encoding: 'utf8' });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

let tsa: Awaited<ReturnType<typeof startTsa>>;
let dir: string;
before(async () => {
  tsa = await startTsa();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tsa-openssl-'));
  fs.writeFileSync(path.join(dir, 'data.txt'), 'release notes\n');
});
after(async () => tsa.close());

async function post(query: Uint8Array, name: string): Promise<{ status: number; file: string }> {
  const r = await fetch(`${tsa.url}/tsa/api/v1/timestamp`, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: query,
  });
  const file = path.join(dir, `${name}.tsr`);
  fs.writeFileSync(file, new Uint8Array(await r.arrayBuffer()));
  return { status: r.status, file };
}

test('openssl ts reads the status, text and failInfo of each refusal of Signet TSA', async () => {
  const chain = path.join(dir, 'chain.pem');
  fs.writeFileSync(chain, await (await fetch(`${tsa.url}/tsa/api/v1/timestamp/certchain`)).text());
  const query = async (name: string, ...args: string[]) => {
    const out = path.join(dir, `${name}.tsq`);
    const q = await openssl(['ts', '-query', '-data', 'data.txt', ...args, '-out', out], dir);
    assert.equal(q.code, 0, q.out);
    return new Uint8Array(fs.readFileSync(out));
  };
  const good = await query('good', '-sha256', '-cert');
  // What `openssl ts -query` cannot write: a version 2, extensions, a 168-bit nonce.
  const body = readOne(good, 'q').value;
  const imprint = body.subarray(3, 3 + 2 + body[4]!);
  const cases: Array<[string, Uint8Array, string, string]> = [
    [
      'policy',
      await query('policy', '-sha256', '-tspolicy', '1.2.3.4'),
      'TimeStampReq.reqPolicy: policy 1.2.3.4 is not accepted; this TSA accepts 1.3.6.1.4.1.57264.2',
      'the requested TSA policy is not supported by the TSA',
    ],
    [
      'sha1',
      await query('sha1', '-sha1'),
      'TimeStampReq.messageImprint.hashAlgorithm: SHA-1 is too weak; use SHA-256, SHA-384 or SHA-512',
      'unrecognized or unsupported algorithm identifier',
    ],
    [
      'md5',
      await query('md5', '-md5'),
      'TimeStampReq.messageImprint.hashAlgorithm: unsupported hash algorithm 1.2.840.113549.2.5; use SHA-256, SHA-384 or SHA-512',
      'unrecognized or unsupported algorithm identifier',
    ],
    [
      'version',
      seq(integer(2), imprint),
      'TimeStampReq.version: must be 1, got 2',
      'transaction not permitted or supported',
    ],
    [
      'extension',
      seq(body, ctx(0, seq(seq(oid('1.2.3.4'), bool(true), octets(Buffer.of(1)))))),
      'TimeStampReq.extensions: request extensions are not supported',
      'the requested extension is not supported by the TSA',
    ],
    [
      'nonce',
      seq(integer(1), imprint, integer(1n << 160n)),
      'TimeStampReq.nonce: is longer than 160 bits',
      'transaction not permitted or supported',
    ],
  ];
  for (const [name, q, text, failure] of cases) {
    const { status, file } = await post(q, name);
    assert.equal(status, 200, name);
    const reply = await openssl(['ts', '-reply', '-in', file, '-text'], dir);
    assert.equal(reply.code, 0, reply.out);
    assert.ok(
      reply.out.includes(
        `Status: Rejected.\nStatus description: ${text}\nFailure info: ${failure}\n`,
      ),
      `${name}: ${reply.out}`,
    );
    assert.match(reply.out, /TST info:\nNot included\./, name);
    const verify = await openssl(
      ['ts', '-verify', '-data', 'data.txt', '-in', file, '-CAfile', chain],
      dir,
    );
    assert.notEqual(verify.code, 0, name);
    assert.match(verify.out, /^Verification: FAILED$/m, name);
    assert.ok(verify.out.includes(`status code: rejection, status text: ${text}`), verify.out);
  }
  // The granted one still verifies; a body that is no TimeStampReq at all is a JSON 400.
  const ok = await post(good, 'good');
  const verify = await openssl(
    ['ts', '-verify', '-data', 'data.txt', '-in', ok.file, '-CAfile', chain],
    dir,
  );
  assert.match(verify.out, /^Verification: OK$/m);
  const garbage = await post(Buffer.from('hello'), 'garbage');
  assert.equal(garbage.status, 400);
  assert.match(
    JSON.parse(fs.readFileSync(garbage.file, 'utf8')).message,
    /^TimeStampReq: DER is truncated/,
  );
});

test("Signet's TSA client reports a refusal of OpenSSL's responder in one line", async () => {
  // A TSA that serves SHA-512 imprints only: Signet's client asks with SHA-256.
  const responder = await startOpensslTsa('sha512');
  try {
    await assert.rejects(
      fetchTimestamp(responder.url, new Uint8Array([1, 2, 3])),
      (e: unknown) =>
        e instanceof SignetError &&
        e.code === 'TIMESTAMP_REJECTED' &&
        e.message ===
          `the timestamp authority at ${responder.url} did not grant the timestamp: rejection (badAlg): Message digest algorithm is not supported.`,
    );
  } finally {
    await responder.close();
  }
});

test("Signet's TSA client gets a timestamp from OpenSSL's responder that OpenSSL verifies", async () => {
  const responder = await startOpensslTsa();
  try {
    const signature = new TextEncoder().encode('a signature');
    const der = await fetchTimestamp(responder.url, signature);
    assert.deepEqual(responder.requests, [
      { path: '/tsr', contentType: 'application/timestamp-query', read: true },
    ]);
    fs.writeFileSync(path.join(dir, 'sig.bin'), signature);
    fs.writeFileSync(path.join(dir, 'openssl.tsr'), der);
    const verify = await openssl(
      [
        ...['ts', '-verify', '-data', 'sig.bin', '-in', 'openssl.tsr'],
        ...['-CAfile', responder.chainFile],
      ],
      dir,
    );
    assert.match(verify.out, /^Verification: OK$/m, verify.out);
  } finally {
    await responder.close();
  }
});
