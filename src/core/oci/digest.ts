/** OCI content digests (image-spec descriptor.md#digests): only sha256 and sha512 are registered. */
import { invalid } from '../errors.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

export interface Digest {
  algorithm: 'sha256' | 'sha512';
  /** Lowercase hex. */
  hex: string;
  /** `algorithm:hex` */
  text: string;
}

const LENGTH = { sha256: 64, sha512: 128 } as const;

export function parseDigest(text: string, field = 'digest'): Digest {
  const m = /^(sha256|sha512):([0-9a-f]+)$/.exec(text);
  if (!m) throw invalid(field, `"${text}" is not a digest (sha256:<64 lowercase hex>)`);
  const algorithm = m[1] as Digest['algorithm'];
  if (m[2]!.length !== LENGTH[algorithm])
    throw invalid(field, `"${text}": a ${algorithm} digest has ${LENGTH[algorithm]} hex digits`);
  return { algorithm, hex: m[2]!, text };
}

export function digestOf(data: Uint8Array, algorithm: Digest['algorithm'] = 'sha256'): Digest {
  const hex = createHash(algorithm).update(data).digest('hex');
  return { algorithm, hex, text: `${algorithm}:${hex}` };
}

/** A digest computed piece by piece (a blob checked as it streams through). */
export function digestHasher(algorithm: Digest['algorithm'] = 'sha256'): {
  update(data: Uint8Array): void;
  digest(): Digest;
} {
  const h = createHash(algorithm);
  return {
    update: (data) => void h.update(data),
    digest: () => {
      const hex = h.digest('hex');
      return { algorithm, hex, text: `${algorithm}:${hex}` };
    },
  };
}

/** True when `data` has digest `d` (computed with d's algorithm). */
export function matchesDigest(data: Uint8Array, d: Digest): boolean {
  return digestOf(data, d.algorithm).hex === d.hex;
}

/** `sha256:abc` -> `sha256-abc`: the tag form of a digest (cosign's .sig tags, the referrers tag schema). */
export function digestTag(d: Digest): string {
  return `${d.algorithm}-${d.hex}`;
}
