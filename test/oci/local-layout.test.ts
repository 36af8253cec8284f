// An OCI image layout read by `verify --local-image` and `load --dir` is input from someone else:
// its files must be regular files inside it. A blob that is a symbolic link (to /dev/zero, to a
// file outside the folder, or even to another file of the layout), a FIFO, or a folder that is a
// link is refused in one line naming it, before anything is read from it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalLayout, MAX_INDEX_ENTRIES } from '../../src/client/oci/layout.ts';
import { parseDigest } from '../../src/core/oci/digest.ts';

const bin = path.resolve('bin/signet');
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function sha(b: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** A layout with one image (config + layer) and one referrer of it; the digests, to tamper with. */
function makeLayout() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-layout-'));
  made.push(dir, `${dir}.pub`);
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (b: string) => {
    const d = sha(b);
    fs.writeFileSync(path.join(blobs, d.slice(7)), b);
    return { digest: d, size: Buffer.byteLength(b) };
  };
  const config = put('{}');
  const layer = put('layer bytes');
  const image = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }),
  );
  const referrer = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: 'application/example',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
      layers: [],
      subject: { mediaType: MANIFEST, ...image },
    }),
  );
  const writeIndex = (entries: object[]) =>
    fs.writeFileSync(
      path.join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: entries,
      }),
    );
  writeIndex([
    { mediaType: MANIFEST, ...image, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
    { mediaType: MANIFEST, ...referrer },
  ]);
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const file = (d: string) => path.join(blobs, d.slice(7));
  return { dir, config, layer, image, referrer, file, writeIndex };
}

/** Replace `file` by a symbolic link to `target`. */
function relink(file: string, target: string) {
  fs.rmSync(file);
  fs.symlinkSync(target, file);
}

test('a well-formed layout reads as before: its image, a layer as a stream, its referrer', async () => {
  const l = makeLayout();
  const layout = new LocalLayout(l.dir);
  assert.equal((await layout.image()).digest.text, l.image.digest);
  const chunks: Buffer[] = [];
  for await (const c of await layout.openBlob(parseDigest(l.layer.digest, 'x'), 'x'))
    chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'layer bytes');
  const refs = await layout.referrers(parseDigest(l.image.digest, 'x'), 'x');
  assert.deepEqual(
    refs.map((r) => [r.digest.text, r.artifactType]),
    [[l.referrer.digest, 'application/example']],
  );
});

test('a blob that is a symbolic link to /dev/zero is refused, not read', async () => {
  const l = makeLayout();
  relink(l.file(l.layer.digest), '/dev/zero');
  const layout = new LocalLayout(l.dir);
  const d = parseDigest(l.layer.digest, 'x');
  const expected = (e: unknown) => {
    const m = (e as Error).message;
    assert.match(
      m,
      /blobs\/sha256\/[0-9a-f]{64} is a symbolic link \(to \/dev\/zero\), not a regular file/,
    );
    assert.doesNotMatch(m, /\n/);
    return true;
  };
  await assert.rejects(layout.getBlob(d, 'layer'), expected);
  await assert.rejects(layout.openBlob(d, 'layer'), expected);
});

test('a blob that links outside the layout is refused before it is read (not a digest mismatch)', async () => {
  const l = makeLayout();
  const outside = path.join(os.tmpdir(), `signet-secret-${process.pid}`);
  fs.writeFileSync(outside, 'secret');
  try {
    relink(l.file(l.layer.digest), outside);
    const layout = new LocalLayout(l.dir);
    await assert.rejects(layout.getBlob(parseDigest(l.layer.digest, 'x'), 'layer'), (e: Error) => {
      assert.match(e.message, /is a symbolic link \(to .*signet-secret-\d+\), not a regular file/);
      return true;
    });
  } finally {
    fs.rmSync(outside, { force: true });
  }
});

test('a link to another file inside the same layout is refused too', async () => {
  const l = makeLayout();
  // the layer's own bytes, under another name in the layout: the digest would match
  const copy = path.join(l.dir, 'blobs', 'copy');
  fs.copyFileSync(l.file(l.layer.digest), copy);
  relink(l.file(l.layer.digest), '../copy');
  const layout = new LocalLayout(l.dir);
  await assert.rejects(
    layout.getBlob(parseDigest(l.layer.digest, 'x'), 'layer'),
    /is a symbolic link \(to \.\.\/copy\)/,
  );
});

test('a blobs folder that is a link is refused', async () => {
  const l = makeLayout();
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-elsewhere-'));
  made.push(elsewhere);
  fs.renameSync(path.join(l.dir, 'blobs', 'sha256'), path.join(elsewhere, 'sha256'));
  fs.symlinkSync(path.join(elsewhere, 'sha256'), path.join(l.dir, 'blobs', 'sha256'));
  const layout = new LocalLayout(l.dir);
  await assert.rejects(layout.image(), /blobs\/sha256 is a symbolic link \(to .*\), not a folder/);
});

test('index.json or oci-layout that is a link or a FIFO is refused', () => {
  const l = makeLayout();
  const index = path.join(l.dir, 'index.json');
  const real = path.join(l.dir, 'real-index.json');
  fs.renameSync(index, real);
  fs.symlinkSync('real-index.json', index);
  assert.throws(
    () => new LocalLayout(l.dir),
    /index\.json is a symbolic link \(to real-index\.json\)/,
  );
  fs.rmSync(index);
  assert.equal(spawnSync('mkfifo', [index]).status, 0);
  assert.throws(
    () => new LocalLayout(l.dir),
    /index\.json is a FIFO \(named pipe\), not a regular file/,
  );
  fs.rmSync(index);
  fs.renameSync(real, index);
  relink(path.join(l.dir, 'oci-layout'), '/dev/zero');
  assert.throws(() => new LocalLayout(l.dir), /oci-layout is a symbolic link \(to \/dev\/zero\)/);
});

test('a FIFO blob is refused by load and verify at once, not waited on forever', async () => {
  const l = makeLayout();
  fs.rmSync(l.file(l.image.digest));
  assert.equal(spawnSync('mkfifo', [l.file(l.image.digest)]).status, 0);
  const layout = new LocalLayout(l.dir);
  await assert.rejects(layout.getBlob(parseDigest(l.image.digest, 'x'), 'x'), /is a FIFO/);
  const key = path.join(l.dir, '..', `${path.basename(l.dir)}.pub`);
  const gen = spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], {
    encoding: 'utf8',
  });
  fs.writeFileSync(
    key,
    spawnSync('openssl', ['ec', '-pubout'], { input: gen.stdout, encoding: 'utf8' }).stdout,
  );
  // In a child: a FIFO read without a writer blocks the whole process, timers included.
  for (const args of [
    ['load', '--dir', l.dir, '127.0.0.1:9/x:y'],
    ['verify', '--key', key, '--local-image', l.dir],
  ]) {
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, `${args[0]} hung on the FIFO`);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /blobs\/sha256\/[0-9a-f]{64} is a FIFO \(named pipe\), not a regular file/,
    );
  }
});

test('a referrer listed 3000 times is read once and listed once, quickly', async () => {
  const l = makeLayout();
  // A referrer of nearly 4 MiB (the manifest limit): reading it 3000 times took 38 s.
  const big = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    artifactType: 'application/example',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...l.config },
    layers: [],
    subject: { mediaType: MANIFEST, ...l.image },
    annotations: { pad: 'x'.repeat(4 * 1024 * 1024 - 1000) },
  });
  const d = sha(big);
  fs.writeFileSync(l.file(d), big);
  const entry = { mediaType: MANIFEST, digest: d, size: Buffer.byteLength(big) };
  l.writeIndex([
    { mediaType: MANIFEST, ...l.image, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
    ...Array.from({ length: 3000 }, () => entry),
  ]);
  const layout = new LocalLayout(l.dir);
  const started = Date.now();
  const refs = await layout.referrers(parseDigest(l.image.digest, 'x'), 'x');
  assert.deepEqual(
    refs.map((r) => r.digest.text),
    [d],
  );
  // image() reads the entries that are not marked either
  assert.equal((await layout.image()).digest.text, l.image.digest);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('an index.json of more than 10,000 entries is refused, naming the count and the limit', () => {
  const l = makeLayout();
  const entry = { mediaType: MANIFEST, ...l.referrer };
  l.writeIndex(Array.from({ length: MAX_INDEX_ENTRIES }, () => entry));
  assert.ok(new LocalLayout(l.dir));
  l.writeIndex(Array.from({ length: MAX_INDEX_ENTRIES + 1 }, () => entry));
  assert.throws(
    () => new LocalLayout(l.dir),
    /index\.json lists 10001 manifests, more than the 10000 a layout may hold$/,
  );
});
