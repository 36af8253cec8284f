/**
 * Opening a log on a PostgreSQL database that cannot be used: one message naming the database
 * (without its password) and what went wrong, as `signet up --database URL` prints it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { openLog } from '../../src/log/index.ts';
import { SignetError } from '../../src/core/errors.ts';
import { PG_ADMIN_URL } from '../helpers/postgres.ts';
import { freePort } from '../helpers/ports.ts';
import { selfSigned } from '../helpers/tls.ts';
import { ED_KEY, ORIGIN } from './helpers.ts';

async function refusal(databaseUrl: string): Promise<string> {
  try {
    await openLog({
      name: 'rekor',
      dataDir: os.tmpdir(),
      databaseUrl,
      signer: { key: ED_KEY, origin: ORIGIN },
    });
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.code, 'STORE_UNAVAILABLE');
    return e.message;
  }
  assert.fail(`${databaseUrl} opened`);
}

test('a database that does not exist, a port nothing listens on, a host that does not resolve', async () => {
  const missing = PG_ADMIN_URL.replace(/\/[^/]*$/, '/signet_no_such_database');
  assert.equal(
    await refusal(missing),
    `cannot open the PostgreSQL database ${missing}: database "signet_no_such_database" does not exist`,
  );
  const port = await freePort();
  assert.equal(
    await refusal(`postgres://signet:secret@127.0.0.1:${port}/signet`),
    `cannot open the PostgreSQL database postgres://signet@127.0.0.1:${port}/signet: nothing is listening at 127.0.0.1:${port}; is the server running there?`,
  );
  assert.match(
    await refusal('postgres://signet@nosuchhost.invalid/signet'),
    /^cannot open the PostgreSQL database postgres:\/\/signet@nosuchhost\.invalid\/signet: .*nosuchhost\.invalid cannot be found \(DNS\)/,
  );
});

/**
 * A server that takes PostgreSQL's SSLRequest ('S', RFC-less but libpq's protocol) and then
 * speaks TLS with a self-signed certificate: what sslmode=require in libpq's sense would accept.
 */
async function selfSignedTlsServer(): Promise<{ port: number; close(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-pg-tls-'));
  const { cert, key } = selfSigned(dir, 'IP:127.0.0.1');
  const context = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      socket.write('S');
      const secure = new tls.TLSSocket(socket, { isServer: true, ...context });
      secure.on('error', () => socket.destroy());
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

test('sslmode=prefer, require and verify-ca are verify-full, as pg takes them, and a TLS refusal says so', async () => {
  const noTls = `${PG_ADMIN_URL}?sslmode=require`;
  assert.equal(
    await refusal(noTls),
    `cannot open the PostgreSQL database ${noTls}: The server does not support SSL connections; sslmode=require is taken as verify-full: TLS with a certificate trusted for the host name`,
  );
  const server = await selfSignedTlsServer();
  try {
    const url = (mode: string) =>
      `postgres://signet@127.0.0.1:${server.port}/signet?sslmode=${mode}`;
    for (const mode of ['prefer', 'require', 'verify-ca'])
      assert.equal(
        await refusal(url(mode)),
        `cannot open the PostgreSQL database ${url(mode)}: the TLS certificate of 127.0.0.1:${server.port} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); sslmode=${mode} is taken as verify-full: TLS with a certificate trusted for the host name`,
      );
    // Said outright, there is nothing to add.
    assert.equal(
      await refusal(url('verify-full')),
      `cannot open the PostgreSQL database ${url('verify-full')}: the TLS certificate of 127.0.0.1:${server.port} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    );
  } finally {
    server.close();
  }
});
