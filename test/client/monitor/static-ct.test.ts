/**
 * A static-ct-api CT log (c2sp.org/static-ct-api: public-good's TesseraCT, Sunlight), followed
 * by the monitor: the checkpoint signed as an RFC6962NoteSignature with the key of the trusted
 * root, consistency computed from hash tiles, entries read from data tiles.
 *
 * No static-CT log installs here (TesseraCT and Sunlight are Go servers without Debian
 * packages) and there is no network to record one's answers from, so the log is built in this
 * test from the spec: checkpoint, hash tiles and data tiles are TLS structures written by hand
 * below, not by the code under test, served from a real HTTP server on loopback.
 */
import { ownCa } from '../../helpers/crafted-entries.ts';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { monitorFromFlags } from '../../../src/client/monitor/setup.ts';
import type { Alert, IdentityAlert, LogAlert } from '../../../src/client/monitor/alerts.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import { buildPlainCertificate, leafTbsSpec } from '../../../src/core/x509/fulcio-profile.ts';

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const u = (value: number, bytes: number) => {
  const b = new Uint8Array(bytes);
  let v = BigInt(value);
  for (let i = bytes - 1; i >= 0; i--, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
};
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const vec = (b: Uint8Array, lenBytes: number) => cat(u(b.length, lenBytes), b);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

// ---- the certificates the log holds ------------------------------------------------------------
const ca = ownCa({ organization: 'static-ct.test', commonName: 'test CA' });
const caSpki = ca.certificate.spki;
const now = Date.now();
function certificateFor(email: string): Uint8Array {
  const spki = new Uint8Array(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'der',
      type: 'spki',
    }),
  );
  return buildPlainCertificate(
    ca,
    leafTbsSpec(ca, {
      spki,
      san: { type: 'email', value: email },
      extensions: { 1: 'https://issuer.test', 8: 'https://issuer.test' },
    }),
  );
}

// ---- the log, from c2sp.org/static-ct-api ------------------------------------------------------
const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const logSpki = new Uint8Array(logKey.publicKey.export({ format: 'der', type: 'spki' }));
const logId = sha256(logSpki);

interface Entry {
  /** TimestampedEntry: timestamp, entry_type precert, issuer_key_hash, TBS, extensions. */
  timestamped: Uint8Array;
  /** The rest of the TileLeaf: pre_certificate and the chain's fingerprints. */
  rest: Uint8Array;
}

/** A precert entry for `email` at `index` (its leaf_index extension says `says`). */
function precertEntry(email: string, index: number, says = index): Entry {
  const der = certificateFor(email);
  const leafIndex = cat(u(0, 1), vec(u(says, 5), 2)); // extension_type 0, 5-byte index
  return {
    timestamped: cat(
      u(now + index, 8),
      u(1, 2), // precert_entry
      sha256(caSpki),
      vec(parseCertificate(der).tbs, 3),
      vec(leafIndex, 2),
    ),
    rest: cat(vec(der, 3), vec(sha256(ca.certificate.der), 2)),
  };
}

/** RFC 6962 MTH over the leaf hashes. */
function mth(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0]!;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha256(Uint8Array.of(1), mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

/** The checkpoint of `size` and `root`, signed with `key` as an RFC6962NoteSignature. */
function checkpoint(origin: string, size: number, root: Uint8Array, key: KeyObject): string {
  const text = `${origin}\n${size}\n${b64(root)}\n`;
  const timestamp = now + 1000;
  const treeHead = cat(u(0, 1), u(1, 1), u(timestamp, 8), u(size, 8), root);
  const signature = new Uint8Array(sign('sha256', treeHead, key));
  const digitallySigned = cat(u(4, 1), u(3, 1), vec(signature, 2)); // sha256, ecdsa
  const keyId = sha256(new TextEncoder().encode(origin), Uint8Array.of(0x0a, 0x05), logId).slice(
    0,
    4,
  );
  return `${text}\n\u2014 ${origin} ${b64(cat(keyId, u(timestamp, 8), digitallySigned))}\n`;
}

const files = new Map<string, Uint8Array>();
const server = http.createServer((req, res) => {
  const body = files.get(req.url ?? '');
  if (!body) res.writeHead(404).end('not found');
  else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
after(() => server.close());
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/log`;
const origin = base.replace(/^http:\/\//, '');

/** Publishes the first entries of `entries` as the log's tree (fewer than 256: partial tiles). */
function publish(entries: Entry[], key: KeyObject = logKey.privateKey): void {
  const leaves = entries.map((e) => sha256(Uint8Array.of(0), Uint8Array.of(0, 0), e.timestamped));
  const n = entries.length;
  files.set('/log/checkpoint', new TextEncoder().encode(checkpoint(origin, n, mth(leaves), key)));
  files.set(`/log/tile/0/000.p/${n}`, cat(...leaves));
  files.set(`/log/tile/data/000.p/${n}`, cat(...entries.map((e) => cat(e.timestamped, e.rest))));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-static-ct-'));
const rootFile = path.join(dir, 'trusted_root.json');
fs.writeFileSync(
  rootFile,
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [
      {
        baseUrl: base,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(logSpki),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: new Date(now - 3600_000).toISOString() },
        },
        logId: { keyId: b64(logId) },
      },
    ],
    timestampAuthorities: [],
  }),
);
const config =
  'startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@example.com\n';

async function pass(state: string) {
  const lines: Alert[] = [];
  const reports: Array<Record<string, unknown>> = [];
  const m = await monitorFromFlags(
    { trustedRoot: rootFile, config, state },
    { print: (l: string) => lines.push(JSON.parse(l) as Alert), report: (e) => reports.push(e) },
  );
  const r = await m.pass();
  return { r, lines, reports };
}

test('a static-ct-api log: identities found in its data tiles, its growth proven from its hash tiles', async () => {
  const entries = [
    precertEntry('dev@example.com', 0),
    precertEntry('other@example.com', 1),
    precertEntry('dev@example.com', 2),
  ];
  publish(entries);
  const state = path.join(dir, 'state.json');
  const first = await pass(state);
  assert.equal(first.r.problems, 0, JSON.stringify(first.lines));
  assert.equal(first.r.errors, 0, JSON.stringify(first.reports));
  const found = first.lines.filter((a): a is IdentityAlert => a.type === 'identity');
  assert.deepEqual(
    found.map((a) => [a.logIndex, a.kind, a.identity]),
    [
      [0, 'ct/precert', 'dev@example.com'],
      [2, 'ct/precert', 'dev@example.com'],
    ],
  );
  // Three entries: the newest tile is the partial one the log serves now.
  assert.equal(found[0]!.entryUrl, `${base}/tile/data/000.p/3#0`);

  // The log grows: the new head is proven consistent from the tiles, the new entry is read.
  entries.push(precertEntry('nobody@example.com', 3), precertEntry('dev@example.com', 4));
  publish(entries);
  const second = await pass(state);
  assert.equal(second.r.problems, 0, JSON.stringify(second.lines));
  assert.deepEqual(
    second.lines.map((a) => (a.type === 'identity' ? a.logIndex : a.type)),
    [4],
  );
});

test('a static-ct-api log that misbehaves: a checkpoint another key signed, an entry out of its place', async () => {
  const entries = [precertEntry('dev@example.com', 0), precertEntry('dev@example.com', 1, 7)];
  publish(entries, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const signed = await pass(path.join(dir, 'state-key.json'));
  const problems = signed.lines.filter((a): a is LogAlert => a.type === 'log');
  assert.deepEqual(
    problems.map((a) => a.problem),
    ['bad-signature'],
  );
  publish(entries);
  const placed = await pass(path.join(dir, 'state-place.json'));
  const bad = placed.lines.filter((a): a is LogAlert => a.type === 'log');
  assert.deepEqual(
    bad.map((a) => a.problem),
    ['bad-tile'],
  );
  assert.match(bad[0]!.message, /says it is entry 7, at index 1/);
  assert.equal(placed.lines.filter((a) => a.type === 'identity').length, 0);
});

test('a static-ct-api log showing another history to someone else: --compare with the checkpoint they saw is a fork', async () => {
  publish([precertEntry('dev@example.com', 0), precertEntry('other@example.com', 1)]);
  const seen = path.join(dir, 'seen-elsewhere.txt');
  fs.writeFileSync(seen, files.get('/log/checkpoint')!);
  // The same size, signed by the log's key, other entries: a split view.
  publish([precertEntry('dev@example.com', 0), precertEntry('mallory@example.com', 1)]);
  const lines: Alert[] = [];
  const reports: Array<Record<string, unknown>> = [];
  const m = await monitorFromFlags(
    { trustedRoot: rootFile, state: path.join(dir, 'state-split.json'), compare: [seen] },
    { print: (l: string) => lines.push(JSON.parse(l) as Alert), report: (e) => reports.push(e) },
  );
  const r = await m.pass();
  assert.equal(r.problems, 1, JSON.stringify(reports));
  const alert = lines[0] as LogAlert;
  assert.equal(alert.problem, 'fork');
  assert.match(alert.message, /seen at .*seen-elsewhere\.txt \(size 2\) is not consistent/);
});
