import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TufRepository } from '../../../src/services/tuf/repository.ts';

const t1 = {
  'trusted_root.json': Buffer.from('{"a":1}\n'),
  'signing_config.v0.2.json': Buffer.from('{"b":1}\n'),
};
const t2 = {
  'trusted_root.json': Buffer.from('{"a":2}\n'),
  'signing_config.v0.2.json': Buffer.from('{"b":1}\n'),
};

test('two processes sharing a data folder publish one consistent repository', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tuf-shared-'));
  const a = TufRepository.open(dir);
  assert.deepEqual(a.update(t1), ['root', 'targets', 'snapshot', 'timestamp']);
  const b = TufRepository.open(dir);
  // The second process's start signs the online roles anew (see update), on top of A's.
  assert.deepEqual(b.update(t1), ['targets', 'snapshot', 'timestamp']);
  assert.deepEqual(a.update(t1), [], 'A picks up what B published');
  assert.deepEqual(b.read('timestamp.json'), a.read('timestamp.json'));
  const version = (r: TufRepository, name: string) =>
    JSON.parse(r.read(name)!.toString()).signed.version as number;
  const before = version(a, 'timestamp.json');

  // A re-signs the timestamp; B picks it up instead of signing a competing version.
  assert.deepEqual(a.update(t1, new Date(Date.now() + 13 * 3600e3)), ['timestamp']);
  assert.deepEqual(b.update(t1), []);
  assert.deepEqual(b.read('timestamp.json'), a.read('timestamp.json'));
  assert.ok(version(b, 'timestamp.json') > before);

  // New content published by B is seen by A.
  assert.deepEqual(b.update(t2), ['targets', 'snapshot', 'timestamp']);
  assert.deepEqual(a.update(t2), []);
  const snapshot = version(b, 'snapshot.json');
  const targets = version(b, 'targets.json');
  assert.deepEqual(a.read(`${targets}.targets.json`), b.read(`${targets}.targets.json`));
  assert.ok(a.read(`${snapshot}.snapshot.json`));
  assert.deepEqual(a.read(`${snapshot}.snapshot.json`), b.read(`${snapshot}.snapshot.json`));
  assert.equal(a.read(`${snapshot + 1}.snapshot.json`), undefined);
  assert.deepEqual(a.read('timestamp.json'), b.read('timestamp.json'));
  // The lock is released after each publication.
  assert.equal(fs.existsSync(path.join(dir, 'tuf', 'publish.lock')), false);
});

test('a file another process published is served at once, before this one publishes again', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tuf-shared-'));
  const a = TufRepository.open(dir);
  a.update(t1);
  const b = TufRepository.open(dir);
  // A publishes new content; a client reads A's timestamp.json, then asks B for what it names.
  assert.deepEqual(a.update(t2), ['targets', 'snapshot', 'timestamp']);
  const ts = JSON.parse(a.read('timestamp.json')!.toString());
  const snapName = `${ts.signed.meta['snapshot.json'].version}.snapshot.json`;
  assert.deepEqual(b.read(snapName), a.read(snapName));
  const snap = JSON.parse(b.read(snapName)!.toString());
  const targetsName = `${snap.signed.meta['targets.json'].version}.targets.json`;
  assert.deepEqual(b.read(targetsName), a.read(targetsName));
  const targets = JSON.parse(b.read(targetsName)!.toString());
  const info = targets.signed.targets['trusted_root.json'];
  assert.deepEqual(
    b.read(`targets/${info.hashes.sha256}.trusted_root.json`),
    t2['trusted_root.json'],
  );
  assert.equal(b.read('9.snapshot.json'), undefined);
});

test('a stale lock left by a crashed process is broken; a live one makes publishing wait and then fail clearly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tuf-lock-'));
  const a = TufRepository.open(dir);
  a.update(t1);
  const lock = path.join(dir, 'tuf', 'publish.lock');
  fs.writeFileSync(lock, '');
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(lock, old, old);
  assert.deepEqual(a.update(t2), ['targets', 'snapshot', 'timestamp']);
  fs.writeFileSync(lock, '');
  const t0 = Date.now();
  assert.throws(() => a.update(t1), /being published by another process/);
  assert.ok(Date.now() - t0 >= 4000);
  fs.rmSync(lock);
});
