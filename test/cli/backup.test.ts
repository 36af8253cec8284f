// signet backup of a running SQLite stack under write load, then signet restore into a new
// folder: the restored log holds every entry acknowledged before the backup began and is
// consistent with every checkpoint published before it (RFC 6962 consistency proofs from each
// of them to the restored head), and the restored stack serves and grows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { verifyConsistency } from '../../src/core/merkle/tree.ts';
import { tempStack } from '../helpers/stack.ts';
import { freshDatabase } from '../helpers/postgres.ts';

const bin = path.resolve('bin/signet');
const run = (args: string[]) => spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });

test('backup of a running stack under load restores to a log consistent with every earlier checkpoint', async () => {
  const stack = await tempStack();
  const engine = () => stack.services.rekor!.shards.current.engine;
  const published: Array<{ size: number; rootHash: Uint8Array }> = [];
  let acknowledged = 0;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          engine().append({ leaf: new Uint8Array(randomBytes(300)) }),
        ),
      );
      acknowledged += results.length;
      const cp = results[results.length - 1]!.checkpoint;
      published.push({ size: cp.size, rootHash: cp.rootHash });
      await new Promise((r) => setImmediate(r));
    }
  })();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
  const restored = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-restored-')), 'data');
  let before: Array<{ size: number; rootHash: Uint8Array }>;
  let ackedBefore: number;
  try {
    while (acknowledged < 200) await new Promise((r) => setTimeout(r, 20));
    before = [...published];
    ackedBefore = acknowledged;
    // `signet backup` in another process while this one keeps appending.
    const b = run(['backup', '--data', stack.dataDir, out]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /backed up .* files; logs: .*rekor-1 \d+ entries/);
    assert.ok(fs.existsSync(path.join(out, 'keys', 'rekor', 'ring.json')));
    assert.ok(!fs.existsSync(path.join(out, 'run')));
    // Restoring over a data folder in use, or a non-empty one, is refused.
    const busy = run(['restore', out, '--data', stack.dataDir]);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /is not empty/);
  } finally {
    writing = false;
    await writer;
    await stack.close();
  }
  assert.ok(published.length > before.length, 'appends continued during the backup');

  const r = run(['restore', out, '--data', restored]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /restored .* into .*: \d+ files; logs: .*rekor-1 \d+ entries/);
  assert.match(r.stderr, /^warning: the logs go on from the backup: .* would fork the logs/);
  const again = await tempStack({ dataDir: restored });
  try {
    const log = again.services.rekor!.shards.current.engine;
    const head = await log.checkpoint();
    assert.ok(head.size >= ackedBefore, `${head.size} < ${ackedBefore} acknowledged`);
    for (const cp of before) {
      const proof = await log.consistencyProof(cp.size, head.size);
      // Throws (naming the sizes) when the restored tree does not extend the checkpoint.
      verifyConsistency(cp.size, head.size, proof, cp.rootHash, head.rootHash);
    }
    // The restored stack takes new entries on top.
    const more = await log.append({ leaf: new Uint8Array(randomBytes(64)) });
    assert.equal(more.index, head.size);
  } finally {
    await again.close();
  }
});

test('backup and restore refuse what they cannot do, in one line', () => {
  const none = run(['backup', '--data', '/nonexistent/signet', '/tmp/x']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /is not a data folder of a stack/);
  const notBackup = run(['restore', os.tmpdir(), '--data', '/tmp/never']);
  assert.equal(notBackup.status, 1);
  assert.match(notBackup.stderr, /is not a signet backup/);
});

test('backup refuses a folder inside the data folder, naming both, and leaves out a backup left inside it', async () => {
  const stack = await tempStack();
  await stack.close();
  const data = stack.dataDir;
  const nested = path.join(data, 'bk');
  for (const out of [nested, path.join(data, 'keys', '..', 'bk'), data]) {
    const r = run(['backup', '--data', data, out]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(
      r.stderr,
      `error: the backup folder ${out} is ${out === data ? 'the data folder' : 'inside the data folder'} ${data}: each later backup would copy it again, growing with every one; give a folder outside ${data}\n`,
    );
  }
  assert.ok(!fs.existsSync(nested), 'no backup folder made');
  // Through a link to the data folder: the same folder.
  const link = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-link-')), 'data');
  fs.symlinkSync(data, link);
  const linked = run(['backup', '--data', data, path.join(link, 'bk')]);
  assert.equal(linked.status, 1, linked.stderr);
  assert.match(linked.stderr, /is inside the data folder/);
  assert.ok(!fs.existsSync(nested), 'no backup folder made');
  // A backup left inside the data folder (an earlier version took such an OUT): not copied.
  const first = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
  const one = run(['backup', '--data', data, first]);
  assert.equal(one.status, 0, one.stderr);
  fs.cpSync(first, nested, { recursive: true });
  const second = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
  const two = run(['backup', '--data', data, second]);
  assert.equal(two.status, 0, two.stderr);
  assert.equal(two.stdout.replace(second, first), one.stdout, 'the same files and logs, once');
  assert.equal(
    two.stderr,
    `warning: left out ${nested}: it is a backup, not part of the stack; move it out of the data folder\n`,
  );
  assert.ok(!fs.existsSync(path.join(second, 'bk')));
  assert.deepEqual(fs.readdirSync(second).sort(), fs.readdirSync(first).sort());
});

/**
 * An empty folder this process cannot write into: mode 0500, and for root (whom modes do not
 * stop) the immutable attribute too, as `chattr +i` sets it. `undo` makes it removable again.
 */
function unwritableFolder(): { dir: string; undo: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ro-'));
  fs.chmodSync(dir, 0o500);
  if (process.getuid?.() !== 0) return { dir, undo: () => fs.chmodSync(dir, 0o700) };
  const r = spawnSync('chattr', ['+i', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `chattr +i ${dir}: ${r.stderr}`);
  return {
    dir,
    undo: () => {
      spawnSync('chattr', ['-i', dir]);
      fs.chmodSync(dir, 0o700);
    },
  };
}

test('backup and restore into a folder that cannot be written say which and why, in one line', async () => {
  const stack = await tempStack();
  await stack.close();
  const ro = unwritableFolder();
  try {
    const denied = `permission denied for ${ro.dir}; check its owner and mode\n$`;
    const b = run(['backup', '--data', stack.dataDir, ro.dir]);
    assert.equal(b.status, 1, b.stderr);
    assert.match(
      b.stderr,
      new RegExp(`^error: cannot write the backup folder ${ro.dir}: ${denied}`),
    );
    const sub = path.join(ro.dir, 'b');
    const c = run(['backup', '--data', stack.dataDir, sub]);
    assert.equal(c.status, 1, c.stderr);
    assert.match(
      c.stderr,
      new RegExp(
        `^error: cannot create the backup folder ${sub}: permission denied for ${sub}; check its owner and mode\n$`,
      ),
    );
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
    assert.equal(run(['backup', '--data', stack.dataDir, out]).status, 0);
    const r = run(['restore', out, '--data', ro.dir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: cannot write the data folder ${ro.dir}: ${denied}`));
    assert.deepEqual(fs.readdirSync(ro.dir), []);
  } finally {
    ro.undo();
  }
});

test('a first signet up that fails on its port leaves the data folder as it found it, so restore takes it', async () => {
  const stack = await tempStack();
  await stack.close();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
  assert.equal(run(['backup', '--data', stack.dataDir, out]).status, 0);
  // The port the operator meant to use is taken (another service holds it).
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = String((holder.address() as net.AddressInfo).port);
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-first-'));
  const empty = path.join(parent, 'empty');
  fs.mkdirSync(empty);
  const fresh = path.join(parent, 'new', 'data');
  const failedUp = (dir: string) => {
    const r = run(['up', '--port', port, '--data', dir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: --port: .* is already in use by another process/);
  };
  try {
    for (const dir of [empty, fresh]) failedUp(dir);
    assert.deepEqual(fs.readdirSync(empty), []);
    assert.deepEqual(fs.readdirSync(parent), ['empty'], 'the folders made for new/data are gone');
    for (const dir of [empty, fresh]) {
      const r = run(['restore', out, '--data', dir]);
      assert.equal(r.status, 0, r.stderr);
    }
    // A folder with data (restored: no run/ in it) keeps all of it through a failed start.
    const before = fs.readdirSync(empty, { recursive: true, encoding: 'utf8' }).sort();
    failedUp(empty);
    assert.deepEqual(fs.readdirSync(empty, { recursive: true, encoding: 'utf8' }).sort(), before);
    assert.ok(before.includes(path.join('keys', 'rekor', 'ring.json')));
  } finally {
    await new Promise((r) => holder.close(r));
  }
});

test("a log's database linked from another disk is backed up as what it points to; a link to nothing is refused", async () => {
  const stack = await tempStack();
  await stack.close();
  const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-disk-'));
  const file = path.join(stack.dataDir, 'rekor.sqlite');
  fs.renameSync(file, path.join(disk, 'rekor.sqlite'));
  fs.symlinkSync(path.join(disk, 'rekor.sqlite'), file);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
  const b = run(['backup', '--data', stack.dataDir, out]);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /rekor-1 0 entries/);
  assert.ok(fs.lstatSync(path.join(out, 'rekor.sqlite')).isFile());
  // The disk gone: refused in one line, with no backup folder made.
  fs.rmSync(disk, { recursive: true });
  const gone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
  const g = run(['backup', '--data', stack.dataDir, gone]);
  assert.equal(g.status, 1, g.stderr);
  assert.equal(
    g.stderr,
    `error: cannot copy ${file}: it is a symbolic link to ${path.join(disk, 'rekor.sqlite')}, which does not exist\n`,
  );
  assert.ok(!fs.existsSync(gone));
});

test('a stack on PostgreSQL: backup and restore say its logs are not in the backup', async () => {
  const db = await freshDatabase();
  const stack = await tempStack({ databaseUrl: db.url });
  await stack.close();
  try {
    const out = path.join(os.tmpdir(), `signet-pg-backup-${randomBytes(4).toString('hex')}`);
    const b = run(['backup', '--data', stack.dataDir, out]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(
      b.stdout,
      /no log files: logs kept in PostgreSQL are not in it \(back them up with pg_dump\)/,
    );
    const restored = path.join(os.tmpdir(), `signet-pg-restored-${randomBytes(4).toString('hex')}`);
    const r = run(['restore', out, '--data', restored]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `Start it with: signet up --data ${restored} --database URL \\(the PostgreSQL database holding its logs`,
      ),
    );
    // The logs do not go on from this backup, which holds none: the database is what matters.
    assert.equal(
      r.stderr,
      'warning: the backup holds no logs (they are kept in PostgreSQL): start it with the database that holds them, as it is or restored from its newest dump only (an older dump lacks entries whose checkpoints are out, and new entries would fork the logs)\n',
    );
  } finally {
    await db.drop();
  }
});

/**
 * A good backup copied to a new folder, changed by `spoil` (a link, a FIFO, a database that is
 * not a log put in it: what someone else who can write the backup folder could leave there).
 */
function spoiledBackup(good: string, spoil: (b: string) => void): string {
  const b = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-spoiled-')), 'b');
  fs.cpSync(good, b, { recursive: true });
  spoil(b);
  return b;
}

test('restore reads only files, folders and log databases from a backup: anything else is refused in one line, leaving the data folder as it found it', async () => {
  const stack = await tempStack();
  await stack.close();
  const good = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-backup-')), 'b');
  assert.equal(run(['backup', '--data', stack.dataDir, good]).status, 0);
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-outside-'));
  const secret = path.join(outside, 'secret.txt');
  fs.writeFileSync(secret, 'an operator file restore must not copy\n', { mode: 0o600 });
  const notLog = path.join(outside, 'not-a-log.sqlite');
  const db = new DatabaseSync(notLog);
  db.exec('CREATE TABLE t(x)');
  db.close();
  const onlyFiles =
    'a signet backup holds only files and folders (backup copies what a link points to), so nothing was restored';
  const cases: Array<{ what: string; spoil: (b: string) => void; error: (b: string) => string }> = [
    {
      what: 'a link to a file outside',
      spoil: (b) => fs.symlinkSync(secret, path.join(b, 'tuf', 'targets', 'leak.txt')),
      error: (b) =>
        `${b}/tuf/targets/leak.txt in the backup is a symbolic link (to ${secret}): ${onlyFiles}`,
    },
    {
      what: 'a link to a folder',
      spoil: (b) => fs.symlinkSync(outside, path.join(b, 'tuf', 'more')),
      error: (b) => `${b}/tuf/more in the backup is a symbolic link (to ${outside}): ${onlyFiles}`,
    },
    {
      what: 'a FIFO',
      spoil: (b) =>
        assert.equal(spawnSync('mkfifo', [path.join(b, 'keys', 'pipe')]).status, 0, 'mkfifo'),
      error: (b) => `${b}/keys/pipe in the backup is a FIFO (named pipe): ${onlyFiles}`,
    },
    {
      what: 'an SQLite file that is not a log',
      spoil: (b) => fs.copyFileSync(notLog, path.join(b, 'ctlog.sqlite')),
      error: (b) =>
        `${b}/ctlog.sqlite in the backup is not a Signet log database: no such table: tlog_logs`,
    },
    {
      what: 'a text file named .sqlite',
      spoil: (b) => fs.writeFileSync(path.join(b, 'ctlog.sqlite'), 'not a database\n'),
      error: (b) =>
        `${b}/ctlog.sqlite in the backup is not a Signet log database: file is not a database`,
    },
  ];
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-restore-into-'));
  const empty = path.join(parent, 'empty');
  fs.mkdirSync(empty);
  const fresh = path.join(parent, 'new', 'data');
  const untouched = fs.statSync(empty).mtimeMs;
  for (const c of cases) {
    const b = spoiledBackup(good, c.spoil);
    for (const dir of [empty, fresh]) {
      const r = run(['restore', b, '--data', dir]);
      assert.equal(r.status, 1, `${c.what}: ${r.stderr}`);
      assert.equal(r.stderr, `error: ${c.error(b)}\n`, c.what);
    }
    assert.deepEqual(fs.readdirSync(empty), [], c.what);
    // Refused before anything was made in it (not made, then removed).
    assert.equal(fs.statSync(empty).mtimeMs, untouched, c.what);
    assert.deepEqual(fs.readdirSync(parent), ['empty'], `${c.what}: no folder made for new/data`);
  }

  // A restore that fails after it began copying (here a path too long for the new folder, as a
  // full disk would) removes what it made: the folder is as it was, and a retry takes it. The
  // backup's deepest file has a 4000-byte path, which fits in PATH_MAX (4096) there and not in
  // the data folders, over 100 bytes deeper (yet within SQLite's 512 for the databases).
  const long = spoiledBackup(good, (b) => {
    const deep = path.join(
      b,
      'tuf',
      ...Array.from({ length: 15 }, (_, i) => `${i}`.padEnd(250, 'x')),
    );
    fs.mkdirSync(deep, { recursive: true });
    const file = path.join(deep, 'f'.padEnd(4000 - deep.length - 1, 'f')); // 4000 bytes
    fs.writeFileSync(file, 'x');
  });
  const far = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'signet-restore-far-')),
    'f'.padEnd(100, 'f'),
  );
  assert.ok(far.length > long.length + 100 && far.length < 400, 'the premise');
  const farEmpty = path.join(far, 'e'.padEnd(40, 'e'));
  fs.mkdirSync(farEmpty, { recursive: true });
  const farNew = path.join(far, 'n'.padEnd(40, 'n'));
  for (const dir of [farEmpty, farNew]) {
    const r = run(['restore', long, '--data', dir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^error: cannot write the data folder ${dir}: [^\\n]*name too long[^\\n]*\\n$`),
    );
  }
  assert.deepEqual(fs.readdirSync(farEmpty), []);
  assert.deepEqual(fs.readdirSync(far), ['e'.padEnd(40, 'e')], 'no folder made for farNew');

  for (const dir of [empty, fresh, farEmpty]) {
    const r = run(['restore', good, '--data', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /logs: ctlog 0 entries, rekor-1 0 entries/);
  }
});
