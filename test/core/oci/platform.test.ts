import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatPlatform,
  manifestForPlatform,
  parsePlatform,
} from '../../../src/core/oci/platform.ts';
import type { Descriptor } from '../../../src/core/oci/manifest.ts';
import { parseDigest } from '../../../src/core/oci/digest.ts';

const entry = (n: number, platform?: Descriptor['platform']): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: parseDigest(`sha256:${String(n).repeat(64).slice(0, 64)}`, 'd'),
  size: 1,
  ...(platform ? { platform } : {}),
});
const index = [
  entry(1, { os: 'linux', architecture: 'amd64' }),
  entry(2, { os: 'linux', architecture: 'arm', variant: 'v6' }),
  entry(3, { os: 'linux', architecture: 'arm', variant: 'v7' }),
  entry(4), // an attestation manifest without a platform, as buildx writes
];

test('parsePlatform: os/arch and os/arch/variant; anything else is refused by name', () => {
  assert.deepEqual(parsePlatform('linux/amd64', '--platform'), {
    os: 'linux',
    architecture: 'amd64',
  });
  assert.deepEqual(parsePlatform('linux/arm/v7', '--platform'), {
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
  });
  assert.equal(formatPlatform(parsePlatform('linux/arm/v7', 'p')), 'linux/arm/v7');
  for (const bad of ['linux', 'linux/', '/amd64', 'a/b/c/d', 'linux/amd 64'])
    assert.throws(
      () => parsePlatform(bad, '--platform'),
      new RegExp(`--platform: "${bad}" is not os/architecture\\[/variant\\]`),
    );
});

test('manifestForPlatform: arm64 means arm64/v8 and arm means arm/v7, as containerd normalises', () => {
  const arm64 = [entry(5, { os: 'linux', architecture: 'arm64' })];
  assert.equal(
    manifestForPlatform(arm64, parsePlatform('linux/arm64/v8', 'p'), 'p', 'i'),
    arm64[0],
  );
  const v8 = [entry(6, { os: 'linux', architecture: 'arm64', variant: 'v8' })];
  assert.equal(manifestForPlatform(v8, parsePlatform('linux/arm64', 'p'), 'p', 'i'), v8[0]);
  assert.throws(
    () => manifestForPlatform(arm64, parsePlatform('linux/arm64/v9', 'p'), 'p', 'i'),
    /p: i has no image for linux\/arm64\/v9 \(it has linux\/arm64\)/,
  );
  const arm = [entry(7, { os: 'linux', architecture: 'arm' })];
  assert.equal(manifestForPlatform(arm, parsePlatform('linux/arm/v7', 'p'), 'p', 'i'), arm[0]);
  assert.throws(() => manifestForPlatform(arm, parsePlatform('linux/arm/v6', 'p'), 'p', 'i'));
  // amd64 has no default variant: v2 names another image than the one without
  const amd = [entry(8, { os: 'linux', architecture: 'amd64' })];
  assert.throws(() => manifestForPlatform(amd, parsePlatform('linux/amd64/v2', 'p'), 'p', 'i'));
});

test('manifestForPlatform: exactly one match, else what the index has', () => {
  assert.equal(manifestForPlatform(index, parsePlatform('linux/amd64', 'p'), 'p', 'img'), index[0]);
  assert.equal(
    manifestForPlatform(index, parsePlatform('linux/arm/v7', 'p'), 'p', 'img'),
    index[2],
  );
  assert.throws(
    () => manifestForPlatform(index, parsePlatform('linux/arm', 'p'), 'p', 'img'),
    /p: img has 2 images for linux\/arm: name the variant too \(it has linux\/amd64, linux\/arm\/v6, linux\/arm\/v7\)/,
  );
  assert.throws(
    () => manifestForPlatform(index, parsePlatform('windows/amd64', 'p'), 'p', 'img'),
    /p: img has no image for windows\/amd64 \(it has linux\/amd64, linux\/arm\/v6, linux\/arm\/v7\)/,
  );
});
