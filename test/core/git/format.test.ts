/**
 * The pure pieces of git signing: splitting commits and tags as git does, the embedded
 * TransparencyLogEntry's protobuf form, the gpg status lines, and the program's arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  joinSignature,
  objectFormatOfId,
  objectFormatOfPayload,
  objectId,
  objectTypeOf,
  splitCommit,
  splitTag,
} from '../../../src/core/git/object.ts';
import {
  decodeTlogEntryProto,
  encodeTlogEntryProto,
  type TlogEntryProtoJson,
} from '../../../src/core/rekor/entry-proto.ts';
import {
  badSigStatus,
  certificateFingerprint,
  goodSigStatus,
  sigCreatedStatus,
} from '../../../src/core/git/status.ts';
import { parseProgramArgs } from '../../../src/cli/git-program.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

const SIG = '-----BEGIN SIGNED MESSAGE-----\nMIIB\nAAAA\n-----END SIGNED MESSAGE-----\n';
const HEAD =
  'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n';

test('a commit splits into the payload git signed and its gpgsig, and joins back to the same object', () => {
  const payload = `${HEAD}\nmessage\n\nbody line\n`;
  const raw = enc(
    `${HEAD}gpgsig ${SIG.trimEnd().split('\n').join('\n ')}\n\nmessage\n\nbody line\n`,
  );
  const s = splitCommit(raw, 'sha1');
  assert.equal(dec(s.payload), payload);
  assert.equal(dec(s.signature), SIG);
  assert.deepEqual(joinSignature('commit', s.payload, s.signature!, 'sha1'), raw);
  assert.equal(objectTypeOf(s.payload), 'commit');
  // git's object ID: SHA-1 of "commit <size>\0<raw>"
  assert.equal(
    objectId('commit', raw, 'sha1'),
    createHash('sha1').update(`commit ${raw.length}\0`).update(raw).digest('hex'),
  );
});

test('gpgsig-sha256 is removed from the payload too; a second gpgsig is refused; unsigned has none', () => {
  const raw = enc(
    `${HEAD}gpgsig ${SIG.trimEnd().split('\n').join('\n ')}\ngpgsig-sha256 -----BEGIN SIGNED MESSAGE-----\n X\n -----END SIGNED MESSAGE-----\n\nm\n`,
  );
  const s = splitCommit(raw, 'sha1');
  assert.equal(dec(s.payload), `${HEAD}\nm\n`);
  assert.equal(dec(s.signature), SIG);
  const twice = enc(`${HEAD}gpgsig a\ngpgsig b\n\nm\n`);
  assert.throws(() => splitCommit(twice, 'sha1'), /more than one gpgsig header/);
  const unsigned = splitCommit(enc(`${HEAD}\nm\n`), 'sha1');
  assert.equal(unsigned.signature, undefined);
  // A message line that looks like a header is message, not signature.
  const msg = splitCommit(enc(`${HEAD}\ngpgsig not a header\n`), 'sha1');
  assert.equal(msg.signature, undefined);
});

test('a SHA-256 repository signs in gpgsig-sha256: that header is its signature, gpgsig is not', () => {
  const head256 = `tree ${'a'.repeat(64)}\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n`;
  const other = '-----BEGIN SIGNED MESSAGE-----\n X\n -----END SIGNED MESSAGE-----';
  const raw = enc(
    `${head256}gpgsig ${other}\ngpgsig-sha256 ${SIG.trimEnd().split('\n').join('\n ')}\n\nm\n`,
  );
  const s = splitCommit(raw, 'sha256');
  assert.equal(dec(s.payload), `${head256}\nm\n`);
  assert.equal(dec(s.signature), SIG);
  assert.equal(objectFormatOfPayload(s.payload), 'sha256');
  assert.equal(objectFormatOfPayload(enc(`${HEAD}\nm\n`)), 'sha1');
  // Only gpgsig: unsigned in SHA-256 terms (git verify-commit says the same).
  const sha1Only = splitCommit(enc(`${head256}gpgsig ${other}\n\nm\n`), 'sha256');
  assert.equal(sha1Only.signature, undefined);
  assert.equal(dec(sha1Only.payload), `${head256}\nm\n`);
  const alone = enc(`${head256}gpgsig-sha256 ${SIG.trimEnd().split('\n').join('\n ')}\n\nm\n`);
  const a = splitCommit(alone, 'sha256');
  assert.deepEqual(joinSignature('commit', a.payload, a.signature!, 'sha256'), alone);
  assert.equal(
    objectId('commit', alone, 'sha256'),
    createHash('sha256').update(`commit ${alone.length}\0`).update(alone).digest('hex'),
  );
  assert.throws(
    () => splitCommit(enc(`${head256}gpgsig-sha256 a\ngpgsig-sha256 b\n\nm\n`), 'sha256'),
    /more than one gpgsig-sha256 header/,
  );
  assert.equal(objectFormatOfId('a'.repeat(40)), 'sha1');
  assert.equal(objectFormatOfId('b'.repeat(64)), 'sha256');
  assert.throws(
    () => objectFormatOfId('HEAD'),
    /"HEAD" is neither a SHA-1 nor a SHA-256 object ID/,
  );
});

test('a tag splits at its last PEM block after the headers', () => {
  const head =
    'object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntype commit\ntag v1\ntagger A <a@x> 1 +0000\n\n';
  const fake =
    '-----BEGIN SIGNED MESSAGE-----\nquoted in the message\n-----END SIGNED MESSAGE-----\n';
  const raw = enc(`${head}release\n${fake}${SIG}`);
  const s = splitTag(raw);
  assert.equal(dec(s.payload), `${head}release\n${fake}`);
  assert.equal(dec(s.signature), SIG);
  assert.equal(objectTypeOf(s.payload), 'tag');
  assert.deepEqual(joinSignature('tag', s.payload, s.signature!, 'sha1'), raw);
  assert.equal(splitTag(enc(`${head}unsigned\n`)).signature, undefined);
});

const ENTRY: TlogEntryProtoJson = {
  logIndex: '1234567890123',
  logId: { keyId: Buffer.alloc(32, 7).toString('base64') },
  kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
  integratedTime: '1700000000',
  inclusionPromise: { signedEntryTimestamp: Buffer.from('set').toString('base64') },
  inclusionProof: {
    logIndex: '12',
    rootHash: Buffer.alloc(32, 1).toString('base64'),
    treeSize: '13',
    hashes: [Buffer.alloc(32, 2).toString('base64'), Buffer.alloc(32, 3).toString('base64')],
    checkpoint: { envelope: 'origin\n13\nAQ==\n\n— origin sig\n' },
  },
  canonicalizedBody: '',
};

test('TransparencyLogEntry protobuf: round trip, and the exact wire bytes of the known fields', () => {
  const bin = encodeTlogEntryProto(ENTRY);
  assert.deepEqual(decodeTlogEntryProto(bin, 'e'), ENTRY);
  // field 1 (log_index) varint, then field 2 (log_id) length-delimited holding key_id (field 1).
  assert.equal(bin[0], 0x08);
  const idx = bin.indexOf(0x12);
  assert.deepEqual([...bin.subarray(idx, idx + 4)], [0x12, 34, 0x0a, 32]);
  // An empty body (gitsign clears it) is not written at all (proto3 default): the last field
  // is the inclusion proof (field 6).
  const withBody = encodeTlogEntryProto({ ...ENTRY, canonicalizedBody: 'AQID' });
  assert.deepEqual([...withBody.subarray(bin.length)], [0x3a, 3, 1, 2, 3]);
});

test('TransparencyLogEntry protobuf: malformed input is an error naming the field', () => {
  assert.throws(
    () => decodeTlogEntryProto(Uint8Array.of(0x08, 0xff), 'e'),
    /e: protobuf varint is truncated/,
  );
  assert.throws(
    () => decodeTlogEntryProto(Uint8Array.of(0x12, 0x05, 0x00), 'e'),
    /runs past the end/,
  );
  assert.throws(
    () => decodeTlogEntryProto(Uint8Array.of(0x0a, 0x00), 'e'),
    /e\.logIndex: has the wrong protobuf wire type/,
  );
  assert.throws(
    () => decodeTlogEntryProto(Uint8Array.of(0x1b), 'e'),
    /wire type 3 is not supported/,
  );
  // Unknown fields are skipped (proto3).
  assert.equal(decodeTlogEntryProto(Uint8Array.of(0x78, 0x01), 'e').logIndex, '0');
});

test('status lines: SIG_CREATED after a line of its own, GOODSIG with the SHA-1 fingerprint', () => {
  const der = Uint8Array.of(1, 2, 3);
  const fpr = createHash('sha1').update(der).digest('hex').toUpperCase();
  assert.equal(certificateFingerprint(der), fpr);
  const created = sigCreatedStatus(der, new Date(1_700_000_000_500));
  assert.equal(
    created,
    `[GNUPG:] BEGIN_SIGNING\n[GNUPG:] SIG_CREATED D 19 8 00 1700000000 ${fpr}\n`,
  );
  const good = goodSigStatus(der, ['a%b\nc'], new Date(1_700_000_000_000));
  assert.match(good, new RegExp(`^\\[GNUPG:\\] GOODSIG ${fpr} a%25b%0Ac\\n`));
  assert.match(good, /\n\[GNUPG:\] TRUST_FULLY 0 shell\n$/);
  // Several identities are joined; none is nothing (no made-up name), the key still ends at a
  // space, since git reads the key up to the next space, across the newline.
  assert.match(
    goodSigStatus(der, ['a@x', 'https://b'], new Date(0)),
    new RegExp(`^\\[GNUPG:\\] GOODSIG ${fpr} a@x, https://b\\n`),
  );
  assert.equal(badSigStatus(der, []), `[GNUPG:] BADSIG ${fpr} \n`);
  assert.equal(badSigStatus(der, ['a@x']), `[GNUPG:] BADSIG ${fpr} a@x\n`);
});

test("the program's arguments: git's exact forms and gpg's spellings", () => {
  assert.deepEqual(parseProgramArgs(['--status-fd=2', '-bsau', 'A <a@x>']), {
    mode: 'sign',
    statusFd: 2,
    key: 'A <a@x>',
  });
  assert.deepEqual(parseProgramArgs(['--status-fd=1', '--verify', '/tmp/sig', '-']), {
    mode: 'verify',
    statusFd: 1,
    files: ['/tmp/sig', '-'],
  });
  assert.deepEqual(parseProgramArgs(['--status-fd', '2', '--detach-sign', '-u', 'k']), {
    mode: 'sign',
    statusFd: 2,
    key: 'k',
  });
  // gitsign's spellings (internal/commands/root/root.go)
  assert.deepEqual(parseProgramArgs(['--status-fd=1', '-v', '/tmp/sig', '-']), {
    mode: 'verify',
    statusFd: 1,
    files: ['/tmp/sig', '-'],
  });
  assert.deepEqual(
    parseProgramArgs(['--detached-sign', '--armor', '--local-user=k', '--include-certs', '-2']),
    { mode: 'sign', statusFd: -1, key: 'k' },
  );
  assert.deepEqual(parseProgramArgs(['-bsau', 'k', '--include-certs=1']), {
    mode: 'sign',
    statusFd: -1,
    key: 'k',
  });
  assert.deepEqual(parseProgramArgs(['--version']), { mode: 'version' });
  assert.throws(
    () => parseProgramArgs(['-bsau', 'k', '--include-certs=all']),
    /--include-certs needs a number/,
  );
  assert.throws(
    () => parseProgramArgs(['--status-fd=x', '-bsau', 'k']),
    /--status-fd needs a number/,
  );
  assert.throws(() => parseProgramArgs(['--frobnicate']), /unknown option --frobnicate/);
  assert.throws(() => parseProgramArgs(['--verify', 'f', '-bsau', 'k']), /give --sign/);
  assert.throws(() => parseProgramArgs([]), /give --sign/);
});
