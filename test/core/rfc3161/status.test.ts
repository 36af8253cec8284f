import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bitsSet, namedBits, oid, readOne, seq } from '../../../src/core/encoding/der.ts';
import {
  describePkiStatus,
  encodeRejection,
  FAIL_INFO,
  type FailInfo,
  parsePkiStatusInfo,
  timestampStatus,
} from '../../../src/core/rfc3161/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('named-bit BIT STRINGs are DER: trailing zero bits dropped, unused bits counted (X.690 §11.2.2)', () => {
  for (const [bits, want] of [
    [[], '030100'],
    [[0], '03020780'],
    [[2], '03020520'],
    [[5], '03020204'],
    [[7], '03020001'],
    [[15], '0303000001'],
    [[16], '030407000080'],
    [[25], '03050600000040'],
    [[0, 5], '03020284'],
  ] as const) {
    const der = namedBits([...bits]);
    assert.equal(hex(der), want, `bits ${bits.join(',')}`);
    assert.deepEqual(bitsSet(readOne(der, 'x').value, 'x'), bits);
  }
  // As Go's encoding/asn1 writes them (digitorus/timestamp pads to 4 bytes): read all the same.
  assert.deepEqual(bitsSet(Buffer.from('0520000000', 'hex'), 'x'), [2]);
  assert.throws(() => bitsSet(Buffer.from('08ff', 'hex'), 'f'), /f: is not a valid BIT STRING/);
  assert.throws(() => bitsSet(Buffer.from('03', 'hex'), 'f'), /f: is not a valid BIT STRING/);
  assert.equal(bitsSet(Buffer.alloc(1000, 0xff).fill(0, 0, 1), 'x').length, 64);
});

test('a rejection reads back with its status, text and failInfo; OpenSSL reads the same bit', () => {
  // OpenSSL's texts for each failInfo bit (crypto/ts/ts_rsp_print.c).
  const openssl: Record<FailInfo, string> = {
    badAlg: 'unrecognized or unsupported algorithm identifier',
    badRequest: 'transaction not permitted or supported',
    badDataFormat: 'the data submitted has the wrong format',
    timeNotAvailable: "the TSA's time source is not available",
    unacceptedPolicy: 'the requested TSA policy is not supported by the TSA',
    unacceptedExtension: 'the requested extension is not supported by the TSA',
    addInfoNotAvailable:
      'the additional information requested could not be understood or is not available',
    systemFailure: 'the request cannot be handled due to system failure',
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rejection-'));
  for (const failInfo of Object.keys(FAIL_INFO) as FailInfo[]) {
    const text = `refused for ${failInfo}`;
    const der = encodeRejection(failInfo, text);
    const si = timestampStatus(der)!;
    assert.deepEqual(si, { status: 2, statusString: text, failInfo: [failInfo] });
    assert.equal(describePkiStatus(si), `rejection (${failInfo}): ${text}`);
    const file = path.join(dir, `${failInfo}.tsr`);
    fs.writeFileSync(file, der);
    const r = spawnSync('openssl', ['ts', '-reply', '-in', file, '-text'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Status: Rejected\.$/m);
    assert.ok(r.stdout.includes(`Status description: ${text}\n`), r.stdout);
    assert.ok(r.stdout.includes(`Failure info: ${openssl[failInfo]}\n`), r.stdout);
  }
  // The statusString is UTF-8.
  assert.equal(timestampStatus(encodeRejection('badAlg', 'ünï – 名'))!.statusString, 'ünï – 名');
  // Several bits, a bit RFC 3161 does not name, a status without text, an unknown status.
  const si = (body: string) => parsePkiStatusInfo(readOne(Buffer.from(body, 'hex'), 's'), 's');
  assert.equal(
    describePkiStatus(si('30070201020302028c')),
    'rejection (badAlg, bit 4, badDataFormat)',
  );
  assert.equal(describePkiStatus(si('3003020103')), 'waiting');
  assert.equal(describePkiStatus(si('3003020109')), 'status 9');
  // A long statusString is cut for the message.
  const long = encodeRejection('badRequest', 'x'.repeat(2000));
  assert.equal(timestampStatus(long)!.statusString, `${'x'.repeat(500)}...`);
  // A bare token (a ContentInfo, starting with its content type) has no status.
  assert.equal(timestampStatus(seq(oid('1.2.840.113549.1.7.2'))), undefined);
});
