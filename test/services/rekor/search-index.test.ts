/**
 * A log written before identity search keys were made exact (an email SAN indexed lower-cased
 * under `identity:`, no `email:` key) answers identity searches correctly once reopened: the
 * service migrates its index on open. The old index is made here as the old indexer wrote it
 * (same rows, in the log's own database), on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { freshDatabase } from '../../helpers/postgres.ts';
import {
  b64,
  certificateFor,
  dsseV1,
  ecSigner,
  hashedRekordV1,
  hashedRekordV2,
  intotoV2,
  statement,
} from './fixtures.ts';
import { startRekor } from './harness.ts';
import {
  COMMIT_KEYS_MARK,
  SEARCH_INDEX_MARK,
  SUBJECT_KEYS_MARK,
} from '../../../src/services/rekor/search-index.ts';

const MIXED = 'Old.Style@Signet.Test';
const LOWER = 'plain@signet.test';

/** The old indexer's rows: `identity:<lower-cased email>`, no `email:` key, no mark. */
const OLD_FORM = [
  `DELETE FROM tlog_search WHERE skey IN ('email:${MIXED.toLowerCase()}', 'email:${LOWER}', 'identity:${MIXED}', '${SEARCH_INDEX_MARK}')`,
];
const oldRows = (idx: number[]) =>
  idx.map(
    (i) =>
      `INSERT INTO tlog_search (log, skey, idx) SELECT name, 'identity:${MIXED.toLowerCase()}', ${i} FROM tlog_logs`,
  );

const postJson = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function scenario(
  opts: { databaseUrl?: string },
  oldWay: (dataDir: string, mixed: number[]) => Promise<void>,
) {
  let s = await startRekor(opts);
  const post = async (p: string, body: unknown) => {
    const r = await postJson(`${s.rekor}${p}`, body);
    return { status: r.status, json: (await r.json()) as unknown };
  };
  const signer = ecSigner();
  const mixed = certificateFor(signer, MIXED);
  const lower = certificateFor(signer, LOWER);
  const at = async (p: string, body: unknown) => {
    const r = await post(p, body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
  };
  await at('/api/v1/log/entries', hashedRekordV1(signer, Buffer.from('one'), { pem: mixed.pem }));
  await at(
    '/api/v2/log/entries',
    hashedRekordV2(signer, Buffer.from('two'), { certDer: mixed.der }),
  );
  await at('/api/v1/log/entries', hashedRekordV1(signer, Buffer.from('three'), { pem: lower.pem }));
  const dataDir = s.dataDir;
  await s.close();
  await oldWay(dataDir, [0, 1]);

  s = await startRekor({ ...opts, dataDir });
  try {
    const v2 = async (identity: string) =>
      (
        (await (
          await fetch(`${s.rekor}/api/v2/index?identity=${encodeURIComponent(identity)}`)
        ).json()) as { entries: Array<{ logIndex: string }> }
      ).entries.map((e) => Number(e.logIndex));
    assert.deepEqual(await v2(MIXED), [0, 1], 'exact identity finds the old entries');
    assert.deepEqual(await v2(MIXED.toLowerCase()), [], 'and only for the exact value');
    assert.deepEqual(await v2(LOWER), [2]);
    const v1 = async (email: string) =>
      ((await post('/api/v1/index/retrieve', { email })).json as string[]).length;
    assert.equal(await v1('old.style@signet.test'), 2, 'v1 email search, any case');
    assert.equal(await v1('OLD.STYLE@signet.test'), 2);
    assert.equal(await v1(LOWER), 1);
  } finally {
    await s.close();
  }
}

test('an index written the old way is migrated on open (SQLite)', async () => {
  await scenario({}, async (dataDir, mixed) => {
    const db = new DatabaseSync(path.join(dataDir, 'rekor.sqlite'));
    try {
      for (const sql of [...OLD_FORM, ...oldRows(mixed)]) db.exec(sql);
      const n = db.prepare(`SELECT COUNT(*) AS n FROM tlog_search WHERE skey LIKE 'email:%'`).get();
      assert.equal(n?.n, 0, 'the old form has no email key');
    } finally {
      db.close();
    }
  });
});

test('an index written the old way is migrated on open (PostgreSQL)', async () => {
  const database = await freshDatabase();
  try {
    await scenario({ databaseUrl: database.url }, async (_dataDir, mixed) => {
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      try {
        for (const sql of [...OLD_FORM, ...oldRows(mixed)]) await c.query(sql);
      } finally {
        await c.end();
      }
    });
  } finally {
    await database.drop();
  }
});

// Before subjects were indexed only as hash keys, a statement's digest named `identity` (or
// `email`, `key`, `issuer`) indexed its entry under whoever it named. The rows such a
// statement made are written here as that indexer wrote them (`alg:value`, lower-cased), and
// the log is reopened.
const VICTIM = 'Victim@Signet.Test';
const SUBJECT = 'ab'.repeat(32);

async function statementKeysScenario(
  opts: { databaseUrl?: string },
  sql: (dataDir: string, statements: string[]) => Promise<void>,
  rows: (dataDir: string, index: number) => Promise<string[]>,
) {
  let s = await startRekor(opts);
  const post = async (p: string, body: unknown) => {
    const r = await postJson(`${s.rekor}${p}`, body);
    assert.equal(r.status, 201, await r.text());
  };
  const victim = ecSigner();
  const victimCert = certificateFor(victim, VICTIM, 'https://victim.issuer');
  const mallory = ecSigner();
  // The attestation is entry 0, where the index migrations keep their marks.
  const attestation = intotoV2(mallory, statement(SUBJECT));
  attestation.spec.content.envelope.signatures[0]!.publicKey = b64(
    certificateFor(mallory, 'mallory@signet.test').pem,
  );
  await post('/api/v1/log/entries', attestation);
  await post(
    '/api/v1/log/entries',
    hashedRekordV1(victim, Buffer.from('one'), { pem: victimCert.pem }),
  );
  const victimKey = (await (
    await fetch(`${s.rekor}/api/v2/index?identity=${encodeURIComponent(VICTIM)}`)
  ).json()) as { entries: unknown[] };
  assert.equal(victimKey.entries.length, 1);
  const dataDir = s.dataDir;
  await s.close();
  const injected = [
    `identity:${VICTIM.toLowerCase()}`,
    `email:${VICTIM.toLowerCase()}`,
    'issuer:https://victim.issuer',
    `key:${'cd'.repeat(32)}`,
    'gitcommit:1234',
    'signet:search-index:9',
  ];
  await sql(dataDir, [
    `DELETE FROM tlog_search WHERE skey = '${SUBJECT_KEYS_MARK}'`,
    ...injected.map(
      (k) => `INSERT INTO tlog_search (log, skey, idx) SELECT name, '${k}', 0 FROM tlog_logs`,
    ),
    // The same kind of row on an entry that took no statement is no statement's: kept.
    `INSERT INTO tlog_search (log, skey, idx) SELECT name, 'gitcommit:5678', 1 FROM tlog_logs`,
  ]);
  s = await startRekor({ ...opts, dataDir });
  try {
    const v2 = async (q: string) =>
      (
        (await (await fetch(`${s.rekor}/api/v2/index?${q}`)).json()) as {
          entries: Array<{ logIndex: string }>;
        }
      ).entries.map((e) => Number(e.logIndex));
    const byEmail = await postJson(`${s.rekor}/api/v1/index/retrieve`, {
      email: VICTIM.toLowerCase(),
    });
    assert.equal(
      ((await byEmail.json()) as string[]).length,
      1,
      'v1 email search: the victim only',
    );
    assert.deepEqual(await v2(`identity=${encodeURIComponent(VICTIM)}`), [1]);
    assert.deepEqual(await v2('identity=mallory%40signet.test'), [0], "the signer's own keys stay");
    assert.deepEqual(await v2(`hash=sha256:${SUBJECT}`), [0], 'and the subject it attests to');
  } finally {
    await s.close();
  }
  const left = await rows(dataDir, 0);
  for (const k of injected) assert.ok(!left.includes(k), `${k} is gone`);
  for (const k of [`sha256:${SUBJECT}`, 'identity:mallory@signet.test', SEARCH_INDEX_MARK])
    assert.ok(left.includes(k), `${k} is kept`);
  assert.ok(left.includes(SUBJECT_KEYS_MARK), 'and the step is marked done');
  assert.ok((await rows(dataDir, 1)).includes('gitcommit:5678'));
}

test("keys an attestation's statement named are removed on open, its signer's kept (SQLite)", async () => {
  const file = (dir: string) => path.join(dir, 'rekor.sqlite');
  await statementKeysScenario(
    {},
    async (dataDir, statements) => {
      const db = new DatabaseSync(file(dataDir));
      try {
        for (const sql of statements) db.exec(sql);
      } finally {
        db.close();
      }
    },
    async (dataDir, index) => {
      const db = new DatabaseSync(file(dataDir));
      try {
        return (
          db.prepare('SELECT skey FROM tlog_search WHERE idx = ?').all(index) as Array<{
            skey: string;
          }>
        ).map((r) => r.skey);
      } finally {
        db.close();
      }
    },
  );
});

test("keys an attestation's statement named are removed on open, its signer's kept (PostgreSQL)", async () => {
  const database = await freshDatabase();
  const withClient = async <T>(f: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  };
  try {
    await statementKeysScenario(
      { databaseUrl: database.url },
      (_dataDir, statements) =>
        withClient(async (c) => {
          for (const sql of statements) await c.query(sql);
        }),
      (_dataDir, index) =>
        withClient(async (c) =>
          (
            await c.query<{ skey: string }>('SELECT skey FROM tlog_search WHERE idx = $1', [index])
          ).rows.map((r) => r.skey),
        ),
    );
  } finally {
    await database.drop();
  }
});

// Before a statement's gitCommit subject was a search key, admission made none for it (and,
// earlier still, made `gitcommit:<hex>` of it, as of every digest name, which step 2 may not
// yet have seen). Both are written here as those versions left them, and the log is reopened.
const commitStatement = (commit: string) =>
  new TextEncoder().encode(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { gitCommit: commit } }],
      predicateType: 'https://example.com/review',
      predicate: {},
    }),
  );
const KEPT = '1a'.repeat(20); // an intoto entry's: the log keeps its statement
const NOT_KEPT = '2b'.repeat(20); // a dsse entry's: the log keeps only the payload's digest
const SHA256_REPO = '3c'.repeat(32); // an intoto entry's, from a SHA-256 repository
const SWAPPED = '4d'.repeat(20); // what a stored statement that is not the logged one names

interface Store {
  sql(dataDir: string, statements: string[]): Promise<void>;
  /** Replace the statement kept beside entry `index`. */
  setKept(dataDir: string, index: number, kept: Uint8Array): Promise<void>;
}

async function commitKeysScenario(opts: { databaseUrl?: string }, store: Store) {
  let s = await startRekor(opts);
  const signer = ecSigner();
  for (const body of [
    hashedRekordV1(signer, Buffer.from('not an attestation')),
    intotoV2(signer, commitStatement(KEPT)),
    dsseV1(signer, commitStatement(NOT_KEPT)),
    intotoV2(signer, commitStatement(SHA256_REPO)),
    intotoV2(signer, commitStatement('5e'.repeat(20))),
  ]) {
    const r = await postJson(`${s.rekor}/api/v1/log/entries`, body);
    assert.equal(r.status, 201, await r.text());
  }
  const dataDir = s.dataDir;
  // Rekor's APIs search no commit (the explorer does, view.ts): the index itself is asked.
  const found = (commit: string) => s.service.shards.current.engine.search(`gitcommit:${commit}`);
  assert.deepEqual(await found(KEPT), [1], 'admission indexes the commit');
  assert.deepEqual(await found(NOT_KEPT), [2]);
  await s.close();

  // 1. A log whose index has been through step 2, written before commit keys: none, no mark.
  await store.sql(dataDir, [
    `DELETE FROM tlog_search WHERE skey LIKE 'gitcommit:%' OR skey = '${COMMIT_KEYS_MARK}'`,
  ]);
  // Entry 4 keeps a statement that is not the one it logged: it is not believed.
  await store.setKept(dataDir, 4, commitStatement(SWAPPED));
  s = await startRekor({ ...opts, dataDir });
  try {
    assert.deepEqual(await found(KEPT), [1], 'made again from the statement the log keeps');
    assert.deepEqual(await found(SHA256_REPO), [3]);
    assert.deepEqual(await found(NOT_KEPT), [], 'a dsse entry keeps no statement to read');
    assert.deepEqual(await found(SWAPPED), []);
    assert.deepEqual(await found('5e'.repeat(20)), []);
    assert.deepEqual(await s.service.shards.current.engine.search(COMMIT_KEYS_MARK), [0]);
  } finally {
    await s.close();
  }

  // 2. A log written when every digest name was a key, before step 2: its commit rows are the
  // ones admission makes today, and stay.
  await store.sql(dataDir, [
    `INSERT INTO tlog_search (log, skey, idx) SELECT name, 'gitcommit:${NOT_KEPT}', 2 FROM tlog_logs`,
    `INSERT INTO tlog_search (log, skey, idx) SELECT name, 'gitcommit:abc', 2 FROM tlog_logs`,
    `DELETE FROM tlog_search WHERE skey IN ('${SUBJECT_KEYS_MARK}', '${COMMIT_KEYS_MARK}')`,
  ]);
  s = await startRekor({ ...opts, dataDir });
  try {
    assert.deepEqual(await found(NOT_KEPT), [2], 'a commit key step 2 keeps');
    assert.deepEqual(await found('abc'), [], 'not a commit ID: removed');
    assert.deepEqual(await found(KEPT), [1]);
  } finally {
    await s.close();
  }
}

test("a statement's git commit keys: made again on open from the statements the log keeps (SQLite)", async () => {
  const withDb = (dataDir: string, f: (db: DatabaseSync) => void) => {
    const db = new DatabaseSync(path.join(dataDir, 'rekor.sqlite'));
    try {
      f(db);
    } finally {
      db.close();
    }
  };
  await commitKeysScenario(
    {},
    {
      sql: async (dataDir, statements) =>
        withDb(dataDir, (db) => {
          for (const sql of statements) db.exec(sql);
        }),
      setKept: async (dataDir, index, kept) =>
        withDb(dataDir, (db) => {
          const r = db.prepare('UPDATE tlog_entries SET extra = ? WHERE idx = ?').run(kept, index);
          assert.equal(r.changes, 1);
        }),
    },
  );
});

test("a statement's git commit keys: made again on open from the statements the log keeps (PostgreSQL)", async () => {
  const database = await freshDatabase();
  const withClient = async (f: (c: pg.Client) => Promise<void>) => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      await f(c);
    } finally {
      await c.end();
    }
  };
  try {
    await commitKeysScenario(
      { databaseUrl: database.url },
      {
        sql: (_dataDir, statements) =>
          withClient(async (c) => {
            for (const sql of statements) await c.query(sql);
          }),
        setKept: (_dataDir, index, kept) =>
          withClient(async (c) => {
            const r = await c.query('UPDATE tlog_entries SET extra = $1 WHERE idx = $2', [
              Buffer.from(kept),
              index,
            ]);
            assert.equal(r.rowCount, 1);
          }),
      },
    );
  } finally {
    await database.drop();
  }
});
