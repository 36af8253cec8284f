/**
 * Opening a log on a PostgreSQL database that cannot be used: one message naming the database
 * (without its password) and what went wrong, as `signet up --database URL` prints it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { openLog } from '../../src/log/index.ts';
import { SignetError } from '../../src/core/errors.ts';
import { PG_ADMIN_URL } from '../helpers/postgres.ts';
import { freePort } from '../helpers/ports.ts';
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
