import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  formatCheckpoint,
  formatVerifierKey,
  noteLogId,
  noteSigner,
  noteVerifier,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  rekorV1Origin,
  signCheckpoint,
  signNote,
  verifyNote,
  addSignatures,
  type NoteKey,
} from '../../../src/core/note/index.ts';
import { SignetError } from '../../../src/core/errors.ts';

const CONF = 'test/fixtures/conformance';
const bundleCheckpoint = (
  dir: string,
): { envelope: string; rootHash: string; treeSize: string } => {
  const b = JSON.parse(
    fs.readFileSync(path.join(CONF, 'bundle-verify', dir, 'bundle.sigstore.json'), 'utf8'),
  );
  const p = b.verificationMaterial.tlogEntries[0].inclusionProof;
  return { envelope: p.checkpoint.envelope, rootHash: p.rootHash, treeSize: p.treeSize };
};
interface TLog {
  baseUrl: string;
  publicKey: { rawBytes: string; keyDetails: string };
  logId: { keyId: string };
}
const tlogs = (file: string): TLog[] => JSON.parse(fs.readFileSync(file, 'utf8')).tlogs;
const keyOf = (t: TLog, name = new URL(t.baseUrl).host): NoteKey =>
  noteVerifier(
    name,
    createPublicKey({
      key: Buffer.from(t.publicKey.rawBytes, 'base64'),
      format: 'der',
      type: 'spki',
    }),
  );

const isErr = (kind: string, code?: string) => (e: unknown) =>
  e instanceof SignetError && e.kind === kind && (code === undefined || e.code === code);

// ---- Real checkpoints from the conformance corpus ----

const V2_ROOT = path.join(CONF, 'bundle-verify/rekor2-happy-path/trusted_root.json');
const v2Log = tlogs(V2_ROOT).find((t) => t.baseUrl.includes('log2025-alpha1'))!;
const v2Key = keyOf(v2Log);

test('Rekor v2 (Ed25519) checkpoint verifies; log ID is the C2SP Ed25519 key hash', () => {
  const { envelope, rootHash, treeSize } = bundleCheckpoint('rekor2-happy-path');
  assert.equal(v2Key.type, 'ed25519');
  assert.equal(Buffer.from(v2Key.logId).toString('base64'), v2Log.logId.keyId);
  const cp = openCheckpoint(envelope, [v2Key], { origin: 'log2025-alpha1.rekor.sigstage.dev' });
  assert.equal(cp.size, Number(treeSize));
  assert.equal(Buffer.from(cp.rootHash).toString('base64'), rootHash);
  assert.deepEqual(cp.extensions, []);
  assert.equal(cp.note.verifiedBy[0], v2Key);
});

test('Rekor v1 (ECDSA P-256) checkpoint verifies with the production key; log ID = SHA-256(SPKI)', () => {
  const { envelope, rootHash, treeSize } = bundleCheckpoint('happy-path-v0.3');
  const prod = tlogs(path.join(CONF, 'trust-roots/production/trusted_root.json'));
  const log = prod.find((t) => t.logId.keyId === 'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=')!;
  const key = keyOf(log, 'rekor.sigstore.dev');
  assert.equal(key.type, 'ecdsa');
  const spki = Buffer.from(log.publicKey.rawBytes, 'base64');
  assert.equal(createHash('sha256').update(spki).digest('base64'), log.logId.keyId);
  assert.equal(Buffer.from(key.logId).toString('base64'), log.logId.keyId);
  const cp = openCheckpoint(envelope, [key], {
    origin: rekorV1Origin('rekor.sigstore.dev', '2605736670972794746'),
  });
  assert.equal(cp.size, Number(treeSize));
  assert.equal(Buffer.from(cp.rootHash).toString('base64'), rootHash);
  // The wrong origin is refused even though the signature is good.
  assert.throws(
    () => openCheckpoint(envelope, [key], { origin: 'rekor.sigstore.dev' }),
    isErr('verification', 'CHECKPOINT_ORIGIN'),
  );
  // Old v1 checkpoints carry a `Timestamp:` extension line; parse keeps it.
  const old = bundleCheckpoint('invalid-checkpoint-signature_fail').envelope;
  assert.deepEqual(parseCheckpoint(parseNote(old).text).extensions, [
    'Timestamp: 1689177396617352539',
  ]);
  assert.throws(() => openCheckpoint(old, [key]), isErr('verification', 'NOTE_SIGNATURE'));
  const badHint = bundleCheckpoint('checkpoint-bad-keyhint_fail').envelope;
  assert.throws(
    () => openCheckpoint(badHint, [key]),
    isErr('verification', 'NOTE_NO_KNOWN_SIGNATURE'),
  );
});

test('cosigned checkpoints: unknown witness keys and same-name other keys are ignored', () => {
  for (const dir of [
    'rekor2-checkpoint-cosigned',
    'rekor2-checkpoint-multiple-cosigs',
    'rekor2-checkpoint-origin-not-first',
    'rekor2-checkpoint-two-sigs-cosigned',
    'rekor2-checkpoint-two-sigs-from-origin',
  ]) {
    const cp = openCheckpoint(bundleCheckpoint(dir).envelope, [v2Key]);
    assert.equal(cp.size, 736, dir);
    assert.ok(cp.note.signatures.length >= 2, dir);
  }
});

test('broken conformance checkpoints are rejected with reasons', () => {
  const cases: Array<[string, (e: unknown) => boolean]> = [
    ['rekor2-checkpoint-missing-log-signature_fail', isErr('invalid-input')],
    ['rekor2-checkpoint-missing-origin_fail', isErr('verification', 'NOTE_SIGNATURE')],
    ['rekor2-checkpoint-missing-root-hash_fail', isErr('verification', 'NOTE_SIGNATURE')],
    ['rekor2-checkpoint-missing-size_fail', isErr('verification', 'NOTE_SIGNATURE')],
    [
      'rekor2-checkpoint-no-matching-signature_fail',
      isErr('verification', 'NOTE_NO_KNOWN_SIGNATURE'),
    ],
  ];
  for (const [dir, check] of cases)
    assert.throws(() => openCheckpoint(bundleCheckpoint(dir).envelope, [v2Key]), check, dir);
  // Parsed alone (no signature check), the bodies fail on the missing line.
  assert.throws(
    () => parseCheckpoint('736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n'),
    /has 2 lines/,
  );
  assert.throws(
    () => parseCheckpoint('log\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n5\n'),
    /checkpoint.size/,
  );
});

// ---- The Go sumdb/note reference vector (golang.org/x/mod/sumdb/note) ----

const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SEED = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(
  1,
);
const PETER_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE = `${PETER_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

test('Ed25519: key ID, vkey and signature reproduce the Go note vector byte for byte', () => {
  const priv = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), PETER_SEED]),
    format: 'der',
    type: 'pkcs8',
  });
  const signer = noteSigner('PeterNeumann', priv);
  assert.equal(signer.keyId, 0xc74f20a3);
  assert.equal(formatVerifierKey(signer), PETER_VKEY);
  assert.equal(signNote(PETER_TEXT, [signer]), PETER_NOTE);
  const v = parseVerifierKey(PETER_VKEY);
  assert.equal(verifyNote(PETER_NOTE, [v]).text, PETER_TEXT);
  assert.throws(
    () => verifyNote(PETER_NOTE.replace('cryptography', 'cryptographY'), [v]),
    isErr('verification', 'NOTE_SIGNATURE'),
  );
  // Known name, other key ID: ignored, so nothing verifies.
  assert.throws(
    () => parseVerifierKey(PETER_VKEY.replace('c74f20a3', 'c74f20a4')),
    /does not match/,
  );
});

test('ECDSA P-256 notes: sign, verify, key ID = SHA-256(SPKI)[:4], vkey round trip', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const s = noteSigner('example.com/log', privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const h = createHash('sha256').update(spki).digest();
  assert.equal(s.keyId, h.readUInt32BE(0));
  assert.deepEqual(Buffer.from(noteLogId('any-name', publicKey)), h);
  const note = signNote('hello\n', [s]);
  assert.equal(verifyNote(note, [noteVerifier('example.com/log', publicKey)]).text, 'hello\n');
  const vk = parseVerifierKey(formatVerifierKey(s));
  assert.equal(vk.keyId, s.keyId);
  verifyNote(note, [vk]);
  // The same key under another name is another (name, ID) pair: ignored.
  assert.throws(
    () => verifyNote(note, [noteVerifier('other', publicKey)]),
    isErr('verification', 'NOTE_NO_KNOWN_SIGNATURE'),
  );
});

test('checkpoints: format/parse round trip, signing with several keys, cosignatures', () => {
  const ed = noteSigner('log.example', generateKeyPairSync('ed25519').privateKey);
  const ec = noteSigner(
    'log.example',
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  );
  const cp = {
    origin: 'log.example',
    size: 12345,
    rootHash: new Uint8Array(32).fill(3),
    extensions: ['x y'],
  };
  const text = formatCheckpoint(cp);
  assert.equal(text, `log.example\n12345\n${Buffer.alloc(32, 3).toString('base64')}\nx y\n`);
  assert.deepEqual(parseCheckpoint(text), cp);
  const note = signCheckpoint(cp, [ed]);
  assert.equal(openCheckpoint(note, [ec, ed]).size, 12345);
  const witness = noteSigner('witness.example', generateKeyPairSync('ed25519').privateKey);
  const cosigned = addSignatures(note, [witness]);
  assert.equal(openCheckpoint(cosigned, [ed, witness]).note.verifiedBy.length, 2);
  assert.equal(openCheckpoint(cosigned, [ed]).note.verifiedBy.length, 1);
});

test('strict note parsing: every malformation names the problem', () => {
  const ok = 'a\n\n\u2014 k AAAAAAE=\n';
  assert.equal(parseNote(ok).signatures[0]!.keyId, 0);
  const bad: Array<[string | Uint8Array, RegExp]> = [
    ['a\n\u2014 k AAAAAAE=\n', /no blank line/],
    ['a\n\n', /no signature lines/],
    ['a\n\n\u2014 k AAAAAAE=', /does not end with a newline/],
    ['a\n\n- k AAAAAAE=\n', /em dash/],
    ['a\n\n\u2014 kAAAAAAE=\n', /no space/],
    ['a\n\n\u2014 k+1 AAAAAAE=\n', /space or "\+"/],
    ['a\n\n\u2014 k\u00a0x AAAAAAE=\n', /space or "\+"/],
    ['a\n\n\u2014  AAAAAAE=\n', /key name is empty/],
    ['a\n\n\u2014 k AAAA\n', /at least a 4-byte key ID/],
    ['a\n\n\u2014 k AA*AAAE=\n', /not valid base64/],
    ['a\n\n\u2014 k \n', /signature is empty/],
    ['a\tb\n\n\u2014 k AAAAAAE=\n', /control character U\+0009/],
    ['a\r\n\n\u2014 k AAAAAAE=\n', /control character U\+000d/],
    [new Uint8Array([0x61, 0xff, 0x0a, 0x0a]), /not valid UTF-8/],
  ];
  for (const [input, re] of bad)
    assert.throws(
      () => parseNote(input),
      (e: unknown) => e instanceof SignetError && e.kind === 'invalid-input' && re.test(e.message),
      String(input),
    );
  // At least 16 signatures are accepted; more than the bound are refused.
  const many = (n: number): string => `a\n\n${'\u2014 k AAAAAAE=\n'.repeat(n)}`;
  assert.equal(parseNote(many(16)).signatures.length, 16);
  assert.equal(parseNote(many(100)).signatures.length, 100);
  assert.throws(() => parseNote(many(101)), /more than the limit of 100/);
  // The text may contain blank lines: the last one separates the signatures.
  assert.equal(parseNote('a\n\nb\n\n\u2014 k AAAAAAE=\n').text, 'a\n\nb\n');
});

test('strict checkpoint parsing', () => {
  const root = Buffer.alloc(32, 1).toString('base64');
  const bad: Array<[string, RegExp]> = [
    [`o\n012\n${root}\n`, /leading zeros/],
    [`o\n-1\n${root}\n`, /not a decimal/],
    [`o\n1 \n${root}\n`, /not a decimal/],
    [`o\n99999999999999999999\n${root}\n`, /too large/],
    [`o\n1\n${Buffer.alloc(31).toString('base64')}\n`, /31 bytes/],
    [`o\n1\n${root.slice(0, -1)}\n`, /base64/],
    [`\n1\n${root}\n`, /origin: is empty/],
    [`o\n1\n${root}\n\next\n`, /extensions\[0\]: is an empty line/],
    [`o\n1\n${root}`, /does not end with a newline/],
  ];
  for (const [t, re] of bad) assert.throws(() => parseCheckpoint(t), re, JSON.stringify(t));
  assert.equal(parseCheckpoint(`o\n0\n${root}\n`).size, 0);
  assert.throws(
    () =>
      formatCheckpoint({ origin: 'a\nb', size: 1, rootHash: new Uint8Array(32), extensions: [] }),
    /one non-empty line/,
  );
});

test('key checks: unsupported keys and bad names fail clearly', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  assert.throws(() => noteSigner('x', rsa), isErr('unsupported', 'UNSUPPORTED_KEY'));
  const ed = generateKeyPairSync('ed25519').privateKey;
  assert.throws(() => noteSigner('a b', ed), /space or "\+"/);
  assert.throws(() => noteSigner('a+b', ed), /space or "\+"/);
  assert.throws(() => parseVerifierKey('a+b'), /name\+keyid\+key/);
  assert.throws(() => parseVerifierKey('a+00000000+BQ=='), /key is empty|not supported/);
  // a key that is not a vkey's (here raw base64 of 33 bytes of zeros): its type byte is named
  assert.throws(
    () => parseVerifierKey(`log.example+00000000+${Buffer.alloc(33).toString('base64')}`, '--log'),
    /^SignetError: --log: is not a verifier key Signet reads: its key begins with the type byte 0x00, where a vkey \(name\+keyid\+base64\) has 0x01 \(Ed25519\) or 0x02 \(ECDSA\)$/,
  );
});
