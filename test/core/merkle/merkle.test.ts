import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  EMPTY_ROOT,
  consistencyProof,
  inclusionProof,
  leafHash,
  rootFromInclusionProof,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/core/merkle/index.ts';
import { SignetError } from '../../../src/core/errors.ts';

const hx = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

// RFC 6962 test vectors as published in transparency-dev/merkle proof/verify_test.go.
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hx);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(hx);
// (1-based leaf, size, proof)
const INCLUSION: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const LEAF_HASHES = LEAVES.map(leafHash);

test('empty tree root is SHA-256 of the empty string', () => {
  assert.equal(
    Buffer.from(EMPTY_ROOT).toString('hex'),
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  assert.deepEqual(rootOf([]), EMPTY_ROOT);
});

test('roots of the RFC 6962 vector trees', () => {
  for (let n = 1; n <= 8; n++) assert.deepEqual(rootOf(LEAF_HASHES.slice(0, n)), ROOTS[n - 1]);
});

test('inclusion proofs: generated equal the published ones and verify', () => {
  for (const [leaf, size, hexProof] of INCLUSION) {
    const proof = hexProof.map(hx);
    assert.deepEqual(inclusionProof(LEAF_HASHES, leaf - 1, size), proof, `${leaf}/${size}`);
    verifyInclusion(LEAF_HASHES[leaf - 1]!, leaf - 1, size, proof, ROOTS[size - 1]!);
  }
});

test('consistency proofs: generated equal the published ones and verify', () => {
  for (const [m, n, hexProof] of CONSISTENCY) {
    const proof = hexProof.map(hx);
    assert.deepEqual(consistencyProof(LEAF_HASHES, m, n), proof, `${m}->${n}`);
    verifyConsistency(m, n, proof, ROOTS[m - 1]!, ROOTS[n - 1]!);
  }
});

function flip(p: Uint8Array[], i: number): Uint8Array[] {
  const q = p.map((h) => new Uint8Array(h));
  q[i]![0]! ^= 8;
  return q;
}

function rejects(fn: () => void, code: string, desc: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof SignetError && e.kind === 'verification' && e.code === code,
    desc,
  );
}

test('corrupted inclusion proofs fail (transparency-dev probes)', () => {
  const some = hx('abacaba000000000000000000000000000000000000000000060061e00123456');
  for (const [leaf, size, hexProof] of INCLUSION.slice(1)) {
    const proof = hexProof.map(hx);
    const i = leaf - 1;
    const root = ROOTS[size - 1]!;
    const lh = LEAF_HASHES[i]!;
    const probes: Array<[number, number, Uint8Array, Uint8Array[], Uint8Array, string]> = [
      [i - 1, size, lh, proof, root, 'index-1'],
      [i + 1, size, lh, proof, root, 'index+1'],
      [i ^ 2, size, lh, proof, root, 'index^2'],
      [i, size * 2, lh, proof, root, 'size*2'],
      [i, Math.floor(size / 2), lh, proof, root, 'size/2'],
      [i, size, new Uint8Array(Buffer.from('WrongLeaf')), proof, root, 'wrong leaf'],
      [i, size, lh, proof, EMPTY_ROOT, 'empty root'],
      [i, size, lh, proof, some, 'random root'],
      [i, size, lh, [...proof, new Uint8Array()], root, 'trailing garbage'],
      [i, size, lh, [...proof, root], root, 'trailing root'],
      [i, size, lh, [new Uint8Array(), ...proof], root, 'preceding garbage'],
      [i, size, lh, [root, ...proof], root, 'preceding root'],
      [i, size, lh, proof.slice(0, -1), root, 'removed component'],
      [i, size, lh, [proof[0]!, some, ...proof.slice(1)], root, 'inserted component'],
      ...proof.map(
        (_, k) =>
          [i, size, lh, flip(proof, k), root, `flipped ${k}`] as [
            number,
            number,
            Uint8Array,
            Uint8Array[],
            Uint8Array,
            string,
          ],
      ),
    ];
    for (const [pi, ps, plh, pp, pr, d] of probes) {
      if (pi < 0) continue;
      rejects(
        () => verifyInclusion(plh, pi, ps, pp, pr),
        'MERKLE_INCLUSION',
        `${leaf}/${size} ${d}`,
      );
    }
  }
});

test('inclusion verification: errors say why', () => {
  const lh = LEAF_HASHES[0]!;
  assert.throws(() => verifyInclusion(lh, 5, 5, [], ROOTS[4]!), /not below tree size 5/);
  assert.throws(() => verifyInclusion(lh, 0, 8, [], ROOTS[7]!), /fewer than index 0/);
  assert.throws(() => verifyInclusion(lh, 0, 1, [lh], lh), /more than a tree of size 1 needs/);
  assert.throws(() => verifyInclusion(lh, 0, 2, [lh], lh), /differs from the tree head/);
  assert.throws(() => verifyInclusion(lh, 0, 2, [new Uint8Array(31)], lh), /proof\[0\] is 31/);
  // Single entry: root equals the leaf hash.
  verifyInclusion(lh, 0, 1, [], lh);
});

test('corrupted consistency proofs fail (transparency-dev probes)', () => {
  for (const [m, n, hexProof] of CONSISTENCY.slice(1)) {
    const proof = hexProof.map(hx);
    const r1 = ROOTS[m - 1]!;
    const r2 = ROOTS[n - 1]!;
    const wrong = new Uint8Array(Buffer.from('WrongRoot'));
    const probes: Array<[number, number, Uint8Array, Uint8Array, Uint8Array[], string]> = [
      [m - 1, n, r1, r2, proof, 'size1-1'],
      [m + 1, n, r1, r2, proof, 'size1+1'],
      [m ^ 2, n, r1, r2, proof, 'size1^2'],
      [m, n * 2, r1, r2, proof, 'size2*2'],
      [m, Math.floor(n / 2), r1, r2, proof, 'size2/2'],
      [m, n, wrong, r2, proof, 'wrong root1'],
      [m, n, r1, wrong, proof, 'wrong root2'],
      [m, n, r2, r1, proof, 'swapped'],
      [m, n, r1, r2, [], 'empty'],
      [m, n, r1, r2, [...proof, new Uint8Array()], 'trailing garbage'],
      [m, n, r1, r2, [...proof, r1], 'trailing root1'],
      [m, n, r1, r2, [...proof, r2], 'trailing root2'],
      [m, n, r1, r2, [new Uint8Array(), ...proof], 'preceding garbage'],
      [m, n, r1, r2, [r1, ...proof], 'preceding root1'],
      [m, n, r1, r2, [r2, ...proof], 'preceding root2'],
      [m, n, r1, r2, [proof[0]!, ...proof], 'preceding proof[0]'],
      [m, n, r1, r2, proof.slice(0, -1), 'truncated'],
      ...proof.map(
        (_, k) =>
          [m, n, r1, r2, flip(proof, k), `flipped ${k}`] as [
            number,
            number,
            Uint8Array,
            Uint8Array,
            Uint8Array[],
            string,
          ],
      ),
    ];
    for (const [a, b, ra, rb, p, d] of probes)
      rejects(() => verifyConsistency(a, b, p, ra, rb), 'MERKLE_CONSISTENCY', `${m}->${n} ${d}`);
  }
});

test('consistency edge cases (transparency-dev TestVerifyConsistency)', () => {
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  verifyConsistency(0, 0, [], a, a);
  verifyConsistency(0, 1, [], a, b);
  verifyConsistency(1, 1, [], b, b);
  rejects(() => verifyConsistency(0, 0, [], a, b), 'MERKLE_CONSISTENCY', '0,0 roots differ');
  rejects(() => verifyConsistency(1, 1, [], a, b), 'MERKLE_CONSISTENCY', '1,1 roots differ');
  rejects(() => verifyConsistency(1, 0, [], a, b), 'MERKLE_CONSISTENCY', 'time travel');
  rejects(() => verifyConsistency(2, 1, [], a, b), 'MERKLE_CONSISTENCY', 'time travel');
  rejects(() => verifyConsistency(1, 2, [], a, b), 'MERKLE_CONSISTENCY', 'empty proof');
  rejects(() => verifyConsistency(0, 1, [EMPTY_ROOT], a, a), 'MERKLE_CONSISTENCY', 'non-empty');
  rejects(() => verifyConsistency(1, 1, [EMPTY_ROOT], a, a), 'MERKLE_CONSISTENCY', 'non-empty');
  assert.throws(() => verifyConsistency(3, 2, [], a, b), /old tree size 3 is larger/);
});

// ---- A naive reference: the recursive definitions of RFC 6962 §2.1, over the data itself. ----
function refMth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(new Uint8Array([0]), d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(new Uint8Array([1]), refMth(d.slice(0, k)), refMth(d.slice(k)));
}
function refPath(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k
    ? [...refPath(m, d.slice(0, k)), refMth(d.slice(k))]
    : [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}
function refSubproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [refMth(d)];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m <= k
    ? [...refSubproof(m, d.slice(0, k), b), refMth(d.slice(k))]
    : [...refSubproof(m - k, d.slice(k), false), refMth(d.slice(0, k))];
}

test('random trees of sizes 0..300: roots and proofs equal the naive reference', () => {
  // Distinct leaves (the index first): two equal random leaves would make the "other leaf"
  // check below expect a failure that cannot happen (a 1-byte leaf repeats now and then).
  const data = Array.from({ length: 300 }, (_, i) =>
    Buffer.concat([Buffer.from(`${i}:`), randomBytes(Math.floor(Math.random() * 40))]),
  );
  const hashes = data.map(leafHash);
  const roots: Uint8Array[] = [];
  for (let n = 0; n <= 300; n++) {
    const root = rootOf(hashes.slice(0, n));
    assert.deepEqual(root, refMth(data.slice(0, n)), `root ${n}`);
    roots.push(root);
  }
  for (let n = 1; n <= 300; n++) {
    // A few indices per size (all of them for small sizes) keep the suite quick.
    const idx = n <= 40 ? [...Array(n).keys()] : [0, n - 1, Math.floor(n / 2), (n * 7) % n];
    for (const i of idx) {
      const p = inclusionProof(hashes, i, n);
      if (n <= 64) assert.deepEqual(p, refPath(i, data.slice(0, n)), `path ${i}/${n}`);
      verifyInclusion(hashes[i]!, i, n, p, roots[n]!);
      if (p.length > 0)
        rejects(
          () => verifyInclusion(hashes[i]!, i, n, flip(p, p.length - 1), roots[n]!),
          'MERKLE_INCLUSION',
          'flip',
        );
      if (n > 1)
        rejects(
          () => verifyInclusion(hashes[(i + 1) % n]!, i, n, p, roots[n]!),
          'MERKLE_INCLUSION',
          'other leaf',
        );
    }
    const ms = n <= 40 ? [...Array(n + 1).keys()] : [0, 1, n - 1, n, Math.floor(n / 3)];
    for (const m of ms) {
      const p = consistencyProof(hashes, m, n);
      if (n <= 64 && m > 0 && m < n)
        assert.deepEqual(p, refSubproof(m, data.slice(0, n), true), `proof ${m}->${n}`);
      verifyConsistency(m, n, p, roots[m]!, roots[n]!);
      if (m > 0 && m < n) {
        rejects(
          () => verifyConsistency(m, n, flip(p, 0), roots[m]!, roots[n]!),
          'MERKLE_CONSISTENCY',
          'flip',
        );
        rejects(
          () => verifyConsistency(m, n, p, roots[m - 1]!, roots[n]!),
          'MERKLE_CONSISTENCY',
          'old root',
        );
      }
    }
  }
});

test('large trees: proofs over 20k leaves verify, and verification handles sizes above 2^32', () => {
  const n = 20_003;
  const hashes = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(String(i))));
  const root = rootOf(hashes);
  for (const i of [0, 1, 8191, 8192, 19_999, n - 1]) {
    verifyInclusion(hashes[i]!, i, n, inclusionProof(hashes, i, n), root);
  }
  for (const m of [1, 255, 256, 16384, 19_000, n - 1]) {
    verifyConsistency(m, n, consistencyProof(hashes, m, n), rootOf(hashes.slice(0, m)), root);
  }
  // Index arithmetic past 32 bits: a proof for the last leaf of a 2^33+1 tree is one hash,
  // the left subtree root; the result is H(left || leaf).
  const left = new Uint8Array(32).fill(7);
  const leaf = new Uint8Array(32).fill(9);
  const big = 2 ** 33 + 1;
  assert.deepEqual(
    rootFromInclusionProof(leaf, big - 1, big, [left]),
    sha(new Uint8Array([1]), left, leaf),
  );
});
