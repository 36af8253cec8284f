import type { Fetcher } from 'tuf-js';
import { writeFileAtomic } from '../../log/atomic-file.ts';
const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

/**
 * A pinned root anchors every run, not only the first. tuf-js starts from whatever root.json the
 * cache holds, so anything that can write the cache (a restored CI cache, another account's
 * shared folder) could put there a root of its own at any version, self-signed, and with it its
 * own timestamp, snapshot and targets: a verifier given --tuf-root would trust them. So every
 * root version the client downloads on its way from the pinned one is kept in `<cache>/roots/`,
 * and before tuf-js reads the cache the chain is walked again from the pinned root (TUF 1.0
 * §5.3.4-5.3.5: each version signed by a threshold of the previous root's keys and of its own,
 * version + 1). A cache that does not chain from the pin is set aside and trust is fetched
 * again from the pin. The walk verifies nothing while the cached root is the pinned one.
 */
const ROOTS = 'roots';

/** `N.root.json` at the end of a root's URL: the version it asks for. */
function rootVersionOf(url: string): number | undefined {
  const m = /\/(\d+)\.root\.json$/.exec(url);
  return m ? Number(m[1]) : undefined;
}

/**
 * `fetcher`, keeping each `N.root.json` it downloads as `<cachePath>/roots/N.root.json` at once,
 * before tuf-js checks and persists it: the walk in chainsFromPin verifies every version it
 * reads, so a kept version never has to be one tuf-js accepted. Kept at once, not after a
 * refresh that succeeded: a refresh tuf-js stops part-way (its cap on rotations, then a
 * timestamp the root it reached cannot verify) has already persisted the root it reached, and the
 * next run must find the versions below it; so must another run sharing the cache that reads it
 * meanwhile. Written whole (a temporary file renamed), so a reader never meets half a version.
 */
export function recordingRoots(fetcher: Fetcher, cachePath: string): Fetcher {
  return {
    downloadFile: fetcher.downloadFile.bind(fetcher),
    async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
      const bytes = await fetcher.downloadBytes(url, maxLength);
      const v = rootVersionOf(url);
      if (v !== undefined) {
        const dir = path.join(cachePath, ROOTS);
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileAtomic(path.join(dir, `${v}.root.json`), bytes);
      }
      return bytes;
    },
  };
}

/** Whether the cache's root.json is `pinned`, or follows from it through the kept versions. */
export async function chainsFromPin(cachePath: string, pinned: string): Promise<boolean> {
  let cached: string;
  try {
    cached = fs.readFileSync(path.join(cachePath, 'metadata', 'root.json'), 'utf8');
  } catch {
    return false;
  }
  if (cached === pinned) return true;
  const { Metadata, MetadataKind } = await import('@tufjs/models');
  try {
    const read = (text: string) =>
      Metadata.fromJSON(
        MetadataKind.Root,
        JSON.parse(text) as Parameters<typeof Metadata.fromJSON>[1],
      );
    let trusted = read(pinned);
    const last = read(cached);
    if (last.signed.version <= trusted.signed.version) return false;
    for (let v = trusted.signed.version + 1; v <= last.signed.version; v++) {
      const text =
        v === last.signed.version
          ? cached
          : fs.readFileSync(path.join(cachePath, ROOTS, `${v}.root.json`), 'utf8');
      const next = read(text);
      if (next.signed.version !== v) return false;
      trusted.verifyDelegate(MetadataKind.Root, next); // throws unless a threshold of the old keys signed
      next.verifyDelegate(MetadataKind.Root, next); // and of its own
      trusted = next;
    }
    return true;
  } catch {
    return false; // a missing version, a bad signature, metadata tuf-js cannot read
  }
}

/**
 * Sets aside the cache of a pin it does not chain from: its metadata, kept roots and record go,
 * so tuf-js starts again from the pin (the caller writes it) and verifies everything anew.
 */
export function forgetUnanchored(cachePath: string, files: readonly string[]): void {
  for (const f of files) fs.rmSync(path.join(cachePath, f), { recursive: true, force: true });
  fs.rmSync(path.join(cachePath, ROOTS), { recursive: true, force: true });
}
