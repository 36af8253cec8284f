/**
 * An artifact read once, for signing or verifying it: whole when it is small, hashed as it is
 * read when it is not (any size, constant memory). Signing (sign/setup.ts), verification
 * (verify/setup.ts) and the CLI's bundle and attestation commands read artifacts through it.
 */
import type { Hash } from 'node:crypto';
import { describeSystemError, invalid } from '../core/errors.ts';
import type { HashAlgorithm } from '../core/crypto/keys.ts';
import { STDIN } from './many-files.ts';
const { createHash } = process.getBuiltinModule('node:crypto');
const fs = process.getBuiltinModule('node:fs');

/**
 * Hash a file, or standard input (`-`), as it is read (any size, constant memory). Synchronous,
 * so the verifier can ask for the digest it needs when it needs it (a large file's Artifact).
 */
export function digestFile(file: string, hash: HashAlgorithm, flag: string): Uint8Array {
  const read = readWholeOrHashed(file, flag, -1, [hash]);
  return read.kind === 'digests'
    ? read.digests.get(hash)!
    : new Uint8Array(createHash(hash).update(read.data).digest());
}

/** An artifact read once: its bytes, or (past the whole-read limit) only its digests. */
export type WholeOrHashed =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'digests'; digests: ReadonlyMap<HashAlgorithm, Uint8Array> };

/** How much is read at a time: a pipe gives at most its buffer (64 KiB on Linux) a read. */
const READ_CHUNK = 1024 * 1024;

/**
 * Read a file or standard input (`-`) once, to its end: its bytes when there are at most
 * `wholeLimit` of them; past that, what was read is hashed with each of `hashes` and let go,
 * and the rest is hashed as it comes, so memory stays under the limit whatever the size. A file
 * whose size says it is larger is hashed from its first byte; standard input (or a pipe, which
 * has no size) is decided by the bytes as they come. A negative limit asks for digests only.
 */
export function readWholeOrHashed(
  file: string,
  flag: string,
  wholeLimit: number,
  hashes: readonly HashAlgorithm[],
): WholeOrHashed {
  let kept: Buffer[] | undefined = [];
  let hashing: Hash[] = [];
  const startHashing = () => {
    hashing = hashes.map((a) => createHash(a));
    for (const c of kept ?? []) for (const h of hashing) h.update(c);
    kept = undefined;
  };
  let total = 0;
  let fd: number | undefined;
  try {
    fd = file === STDIN ? 0 : fs.openSync(file, 'r');
    if (wholeLimit < 0 || (file !== STDIN && fs.fstatSync(fd).size > wholeLimit)) startHashing();
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
      total += n;
      if (kept && total > wholeLimit) startHashing();
      // Kept chunks are copies: a pipe's short reads would otherwise each hold a whole buffer.
      if (kept) kept.push(Buffer.from(buf.subarray(0, n)));
      else for (const h of hashing) h.update(buf.subarray(0, n));
    }
  } catch (e) {
    throw file === STDIN
      ? invalid(flag, `standard input could not be read (${(e as Error).message})`, e)
      : invalid(flag, describeSystemError(e, file), e);
  } finally {
    if (fd !== undefined && fd !== 0) fs.closeSync(fd);
  }
  if (kept) return { kind: 'bytes', data: new Uint8Array(Buffer.concat(kept, total)) };
  return {
    kind: 'digests',
    digests: new Map(hashes.map((a, i) => [a, new Uint8Array(hashing[i]!.digest())])),
  };
}
