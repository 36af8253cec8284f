import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalize,
  decodePem,
  encodePem,
  fromBase64,
  fromHex,
  toBase64,
} from '../../src/core/encoding/index.ts';
import { SignetError } from '../../src/core/errors.ts';

test('JCS sorts keys by UTF-16 code units and drops whitespace (RFC 8785 §3.2.3)', () => {
  assert.equal(
    canonicalize({ b: 1, a: [true, null, 'x'], '\u20ac': 1, '\r': 2 }),
    '{"\\r":2,"a":[true,null,"x"],"b":1,"€":1}',
  );
  assert.equal(canonicalize({ n: 1e21, f: 0.5, z: -0 }), '{"f":0.5,"n":1e+21,"z":0}');
});

test('base64 decoding is strict and names the field', () => {
  assert.deepEqual([...fromBase64('AAE=', 'f')], [0, 1]);
  assert.deepEqual([...fromBase64('AAE', 'f')], [0, 1]);
  assert.throws(
    () => fromBase64('AA$E', 'spec.signature'),
    (e: unknown) =>
      e instanceof SignetError && /spec\.signature: is not valid base64/.test(e.message),
  );
  assert.throws(() => fromBase64('AAE', 'f', false), SignetError);
  // non-canonical trailing bits are still accepted (only the fast path is canonical-only)
  assert.deepEqual([...fromBase64('QR==', 'f')], [0x41]);
  for (const bad of [
    'AA=A',
    'A===',
    'AAAA=',
    ' AAA',
    'AA\nA',
    'AB-_',
    'AB+_',
    'A\u00e9==',
    'AA==AAAA',
  ])
    assert.throws(() => fromBase64(bad, 'f', false), SignetError, bad);
  // the URL-safe alphabet only as the whole text, when unpadded text is allowed
  assert.deepEqual([...fromBase64('-_8', 'f')], [0xfb, 0xff]);
  assert.throws(() => fromBase64('+_8', 'f'), SignetError);
});

test('base64 decoding gives arrays that own their bytes, small and large', () => {
  for (const n of [0, 1, 32, 3000, 5000, 100_000]) {
    const bytes = new Uint8Array(n).map((_, i) => i * 7);
    const text = toBase64(bytes);
    const a = fromBase64(text, 'f');
    assert.deepEqual(a, bytes);
    // not a view into Node's shared pool, nor into the buffer of another result
    assert.equal(a.byteOffset, 0);
    assert.equal(a.buffer.byteLength, n);
    assert.notEqual(fromBase64(text, 'f').buffer, a.buffer);
    // a text one character short (or with one character bad) is refused, however long
    if (n > 0) {
      assert.throws(() => fromBase64(`${text.slice(0, 4)}!${text.slice(5)}`, 'f'), SignetError);
      assert.throws(() => fromBase64(` ${text.slice(1)}`, 'f', false), SignetError);
    }
  }
});

test('hex decoding rejects odd length and non-hex', () => {
  assert.deepEqual([...fromHex('00ff', 'h')], [0, 255]);
  assert.throws(() => fromHex('0', 'h'), SignetError);
  assert.throws(() => fromHex('zz', 'h'), SignetError);
});

test('PEM round trip with 64-column lines, label checked', () => {
  const der = new Uint8Array(100).map((_, i) => i);
  const pem = encodePem('PUBLIC KEY', der);
  assert.equal(pem.split('\n')[1]!.length, 64);
  assert.deepEqual(decodePem(pem, 'k', 'PUBLIC KEY').der, der);
  assert.throws(() => decodePem(pem, 'k', 'CERTIFICATE'), /expected a PEM "CERTIFICATE" block/);
  assert.throws(() => decodePem('nothing here', 'k'), /contains no PEM block/);
  assert.equal(toBase64(der), Buffer.from(der).toString('base64'));
});
