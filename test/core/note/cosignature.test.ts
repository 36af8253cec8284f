import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  cosigner,
  cosignedMessage,
  formatCosignerKey,
  parseCosignerKey,
  requireCosignatures,
  verifyCosignatures,
} from '../../../src/core/note/cosignature.ts';
import { formatNote, parseNote, signNote } from '../../../src/core/note/note.ts';
import { noteSigner } from '../../../src/core/note/keys.ts';
import { formatAddCheckpoint, parseAddCheckpoint } from '../../../src/core/note/add-checkpoint.ts';

const ed = () => generateKeyPairSync('ed25519').privateKey;
const logKey = noteSigner('example.com/log', ed());
const text = 'example.com/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const logNote = signNote(text, [logKey]);

function cosign(note: string, w: ReturnType<typeof cosigner>, time = 1679315147): string {
  const n = parseNote(note);
  return formatNote({ text: n.text, signatures: [...n.signatures, w.cosign(n.text, time)] });
}

test('cosignature/v1 message is the header, the time line and the checkpoint body (C2SP example)', () => {
  assert.equal(
    new TextDecoder().decode(cosignedMessage(text, 1679315147)),
    `cosignature/v1\ntime 1679315147\n${text}`,
  );
  assert.throws(() => cosignedMessage(text, 0), /positive integer/);
});

test('a witness vkey has type 0x04 and round-trips; a wrong key ID or type is refused', () => {
  const w = cosigner('witness.example/w1', ed());
  const vkey = formatCosignerKey(w);
  assert.match(vkey, /^witness\.example\/w1\+[0-9a-f]{8}\+/);
  assert.equal(Buffer.from(vkey.split('+').slice(2).join('+'), 'base64')[0], 0x04);
  const k = parseCosignerKey(vkey);
  assert.equal(k.keyId, w.keyId);
  const [name, id, b64] = [
    vkey.slice(0, vkey.indexOf('+')),
    vkey.split('+')[1]!,
    vkey.slice(vkey.indexOf('+', vkey.indexOf('+') + 1) + 1),
  ];
  const otherId = ((parseInt(id, 16) ^ 1) >>> 0).toString(16).padStart(8, '0');
  assert.throws(() => parseCosignerKey(`${name}+${otherId}+${b64}`), /does not match the key/);
  // A log (type 0x01) vkey is not a witness key.
  const raw = Buffer.from(b64, 'base64');
  raw[0] = 0x01;
  assert.throws(
    () => parseCosignerKey(`${name}+${id}+${raw.toString('base64')}`),
    /0x01 is not a cosignature/,
  );
  assert.throws(() => parseCosignerKey('garbage'), /not a vkey/);
});

test('cosignatures verify, count per distinct witness, and a bad one from a trusted witness rejects', () => {
  const w1 = cosigner('w1.example', ed());
  const w2 = cosigner('w2.example', ed());
  const stranger = cosigner('stranger.example', ed());
  const note = cosign(cosign(cosign(logNote, w1), stranger), w1, 1679315200);
  const got = verifyCosignatures(note, [w1, w2]);
  assert.deepEqual(
    got.map((g) => [g.key.name, g.time]),
    [['w1.example', 1679315147]],
  );
  assert.equal(requireCosignatures(note, [w1, w2], 1).length, 1);
  assert.throws(() => requireCosignatures(note, [w1, w2], 2), {
    code: 'WITNESS_COSIGNATURES',
    message:
      /: 2 cosignatures are needed from the required witnesses w1\.example, w2\.example; it has 1 \(w1\.example\)$/,
  });
  // The witness's signature over another checkpoint body does not verify for this one.
  const other = parseNote(signNote(text.replace('\n3\n', '\n4\n'), [logKey]));
  const forged = formatNote({
    text: parseNote(logNote).text,
    signatures: [...parseNote(logNote).signatures, w2.cosign(other.text, 1679315147)],
  });
  assert.throws(() => verifyCosignatures(forged, [w2]), {
    code: 'WITNESS_COSIGNATURE',
    message: /w2\.example .* does not verify/,
  });
  // Same key, but the time in the signature changed: does not verify.
  const n = parseNote(cosign(logNote, w2));
  const sig = n.signatures[1]!;
  const bumped = new Uint8Array(sig.signature);
  bumped[7]! ^= 1;
  assert.throws(
    () =>
      verifyCosignatures(
        formatNote({ text: n.text, signatures: [n.signatures[0]!, { ...sig, signature: bumped }] }),
        [w2],
      ),
    /does not verify/,
  );
});

test('add-checkpoint bodies round-trip and malformed ones are refused with the reason', () => {
  const proof = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
  const body = formatAddCheckpoint({ oldSize: 2, proof, checkpoint: logNote });
  assert.ok(body.startsWith('old 2\nAQEB'));
  const back = parseAddCheckpoint(new TextEncoder().encode(body));
  assert.equal(back.oldSize, 2);
  assert.deepEqual(back.proof, proof);
  assert.equal(back.checkpoint, logNote);
  assert.deepEqual(parseAddCheckpoint(`old 0\n\n${logNote}`).proof, []);
  assert.throws(() => parseAddCheckpoint(`old 01\n\n${logNote}`), /is not "old <size>"/);
  assert.throws(() => parseAddCheckpoint(`new 1\n\n${logNote}`), /is not "old <size>"/);
  assert.throws(() => parseAddCheckpoint('old 1\n'), /no empty line/);
  assert.throws(() => parseAddCheckpoint(`old 1\nAAAA\n\n${logNote}`), /not a 32-byte hash/);
  const many = Array.from({ length: 64 }, () => Buffer.alloc(32).toString('base64')).join('\n');
  assert.throws(() => parseAddCheckpoint(`old 1\n${many}\n\n${logNote}`), /at most 63/);
  assert.throws(() => parseAddCheckpoint(new Uint8Array([0xff, 0xfe])), /not UTF-8/);
});
