import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generalizedTime, integer, readTlv, tlv, TAG } from '../../../src/core/encoding/der.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DER writer (X.690 §8.1.3 lengths, §8.3 integers, §11.7 GeneralizedTime)', () => {
  it('short and long-form lengths, minimal', () => {
    for (const [n, head] of [
      [0, '3000'],
      [127, '307f'],
      [128, '308180'],
      [255, '3081ff'],
      [256, '30820100'],
      [65535, '3082ffff'],
      [65536, '3083010000'],
      [0x1000000, '308401000000'],
    ] as const) {
      const out = tlv(TAG.SEQUENCE, new Uint8Array(n).fill(7));
      assert.equal(hex(out.subarray(0, head.length / 2)), head, `length ${n}`);
      assert.equal(out.length, head.length / 2 + n);
      if (n > 0) assert.equal(out[out.length - 1], 7);
      const t = readTlv(out, 0, 'x');
      assert.equal(t.end - t.contentStart, n);
    }
  });

  it('concatenates several contents in order', () => {
    assert.equal(
      hex(tlv(0x31, Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3))),
      '3103010203',
    );
  });

  it("integers: minimal two's complement, a leading 0x00 only when the top bit is set", () => {
    for (const [v, want] of [
      [0, '020100'],
      [1, '020101'],
      [127, '02017f'],
      [128, '02020080'],
      [255, '020200ff'],
      [256, '02020100'],
      [0x7fffn, '02027fff'],
      [0x8000n, '0203008000'],
      [2n ** 64n - 1n, '020900ffffffffffffffff'],
      [0x0123456789abcdefn, '02080123456789abcdef'],
    ] as const)
      assert.equal(hex(integer(v)), want, String(v));
    assert.throws(() => integer(-1), RangeError);
    assert.throws(() => integer(-1n), RangeError);
  });

  it('GeneralizedTime in whole seconds, Zulu', () => {
    assert.equal(
      Buffer.from(generalizedTime(new Date('2026-12-05T04:30:01.999Z')).subarray(2)).toString(),
      '20261205043001Z',
    );
  });
});
