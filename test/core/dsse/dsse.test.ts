import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dsse } from '@sigstore/core';
import { envelopeToJSON, pae, parseEnvelope } from '../../../src/core/dsse/index.ts';
import { SignetError } from '../../../src/core/errors.ts';

const te = new TextEncoder();

test('PAE matches the DSSE spec example and the sigstore-js implementation', () => {
  // protocol.md test vector
  assert.equal(
    Buffer.from(pae('http://example.com/HelloWorld', te.encode('hello world'))).toString(),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
  for (const [t, p] of [
    ['application/vnd.in-toto+json', '{"a":1}'],
    ['', ''],
    ['x', 'é✓'],
  ] as const) {
    assert.deepEqual(
      Buffer.from(pae(t, te.encode(p))),
      dsse.preAuthEncoding(t, Buffer.from(te.encode(p))),
    );
  }
});

test('envelopes parse and write back; bad ones name the field', () => {
  const j = {
    payload: 'aGk=',
    payloadType: 'text/plain',
    signatures: [{ sig: 'AQID', keyid: '' }],
  };
  const e = parseEnvelope(j);
  assert.deepEqual([...e.payload], [104, 105]);
  assert.deepEqual(envelopeToJSON(e), {
    payload: 'aGk=',
    payloadType: 'text/plain',
    signatures: [{ sig: 'AQID' }],
  });
  const field = (v: unknown) => {
    try {
      parseEnvelope(v, 'env');
    } catch (err) {
      assert.ok(err instanceof SignetError);
      return err.field;
    }
    assert.fail('expected failure');
  };
  assert.equal(field({ ...j, payload: 'a$' }), 'env.payload');
  assert.equal(field({ ...j, payloadType: '' }), 'env.payloadType');
  assert.equal(field({ ...j, signatures: [] }), 'env.signatures');
  assert.equal(field({ ...j, signatures: [{ sig: '' }] }), 'env.signatures[0].sig');
  assert.equal(field({ ...j, signatures: [{ sig: 'AQID', other: 1 }] }), 'env.signatures[0].other');
  assert.equal(field('x'), 'env');
});
