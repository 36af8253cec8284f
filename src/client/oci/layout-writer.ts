/**
 * An OCI image layout being written (image-spec image-layout.md), for `signet save`: blobs under
 * `blobs/<alg>/<hex>`, each checked against its digest as it streams in, and `index.json`
 * written last, listing what `finish` is given. It takes copies as a registry repository does
 * (copyBlobFrom, putManifest), so plumbing's copy serves both.
 */
import path from 'node:path';
import { describeSystemError, invalid } from '../../core/errors.ts';
import { digestOf, type Digest } from '../../core/oci/digest.ts';
import { OCI_INDEX, type Descriptor } from '../../core/oci/manifest.ts';
import { checkedBlob } from './registry.ts';
import type { ImageSource } from './source.ts';
const fs = process.getBuiltinModule('node:fs');

export class LayoutWriter {
  readonly name: string;
  readonly #dir: string;
  readonly #created: boolean;

  /** `dir` must not exist yet, or be an empty folder: a save never mixes with other files. */
  constructor(dir: string) {
    this.#dir = dir;
    this.name = `local image ${dir}`;
    let existing: string[] | undefined;
    try {
      existing = fs.readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw invalid('--dir', describeSystemError(e, dir), e);
    }
    if (existing !== undefined && existing.length > 0)
      throw invalid('--dir', `${dir} is not empty: give a new or empty folder`);
    this.#created = existing === undefined;
    try {
      fs.mkdirSync(path.join(dir, 'blobs'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    } catch (e) {
      throw invalid('--dir', describeSystemError(e, dir), e);
    }
  }

  #blobPath(d: Digest): string {
    return path.join(this.#dir, 'blobs', d.algorithm, d.hex);
  }

  async copyBlobFrom(src: ImageSource, d: Descriptor, what: string): Promise<void> {
    const p = this.#blobPath(d.digest);
    if (fs.existsSync(p)) return;
    fs.mkdirSync(path.dirname(p), { recursive: true });
    const body = await src.openBlob(d.digest, what);
    const tmp = `${p}.partial`;
    await process
      .getBuiltinModule('node:stream/promises')
      .pipeline(
        body,
        checkedBlob(d, `${what}: blob ${d.digest.text} from ${src.name}`),
        fs.createWriteStream(tmp),
      );
    fs.renameSync(tmp, p);
  }

  /** A manifest's bytes as a blob; the tag, if any, is for `finish`'s caller to record. */
  async putManifest(_reference: string, bytes: Uint8Array, _mediaType: string): Promise<void> {
    const d = digestOf(bytes);
    const p = this.#blobPath(d);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (!fs.existsSync(p)) fs.writeFileSync(p, bytes);
  }

  /** Write `index.json`, listing `entries`: the layout is then complete. */
  finish(entries: readonly Descriptor[]): void {
    const manifests = entries.map((e) => {
      const o: Record<string, unknown> = {
        mediaType: e.mediaType,
        digest: e.digest.text,
        size: e.size,
      };
      if (e.artifactType) o.artifactType = e.artifactType;
      if (e.annotations) o.annotations = e.annotations;
      return o;
    });
    fs.writeFileSync(
      path.join(this.#dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }),
    );
  }

  /** Take back a save that failed: nothing partial is left. */
  discard(): void {
    if (this.#created) fs.rmSync(this.#dir, { recursive: true, force: true });
    else
      for (const f of fs.readdirSync(this.#dir))
        fs.rmSync(path.join(this.#dir, f), { recursive: true, force: true });
  }
}
