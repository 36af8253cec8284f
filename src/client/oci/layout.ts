/**
 * A local OCI image layout (image-spec image-layout.md) as a read-only image source, for
 * `--local-image DIR`: `index.json` names the image (cosign save marks it with
 * `kind: dev.cosignproject.cosign/image|imageIndex` and its signatures with `.../sigs`, `.../atts`),
 * blobs live under `blobs/<alg>/<hex>`, and referrers are found by their `subject`.
 */
import { openRegularFile, specialFileKind } from '../../services/read-file.ts';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { describeSystemError, invalid, SignetError } from '../../core/errors.ts';
import { matchesDigest, parseDigest, type Digest } from '../../core/oci/digest.ts';
import { MAX_MANIFEST_BYTES, parseManifest, type Descriptor } from '../../core/oci/manifest.ts';
import { MAX_BLOB_BYTES, type FetchedManifest } from './registry.ts';
import type { ImageSource } from './source.ts';
import { parseJsonText } from '../../core/json.ts';
import { MAX_DOCUMENT_BYTES } from '../file-or-url.ts';
const fs = process.getBuiltinModule('node:fs');

const KIND = 'kind';
/** The most manifests an index.json may list: far more than any image and its signatures. */
export const MAX_INDEX_ENTRIES = 10_000;
const REF_NAME = 'org.opencontainers.image.ref.name';

export class LocalLayout implements ImageSource {
  readonly name: string;
  private readonly dir: string;
  private readonly index: Descriptor[];

  /** `flag`: what named the folder, for errors (`--local-image`, or load's `--dir`). */
  private readonly flag: string;

  constructor(dir: string, flag = '--local-image') {
    this.dir = dir;
    this.flag = flag;
    this.name = `local image ${dir}`;
    // The folder first, so the error names what the user gave (not a file inside it).
    let st: Stats;
    try {
      st = fs.statSync(dir);
    } catch (e) {
      throw invalid(flag, describeSystemError(e, dir), e);
    }
    if (!st.isDirectory())
      throw invalid(
        flag,
        `${dir} is a file; give the folder of an OCI image layout (as cosign save writes it)`,
      );
    const read = (name: string): string | undefined => {
      const file = path.join(dir, name);
      const bytes = readLayoutFile(file, flag, MAX_DOCUMENT_BYTES, (size) => {
        throw invalid(flag, `${file} is ${size} bytes; this file is at most 16 MiB`);
      });
      return bytes && new TextDecoder().decode(bytes);
    };
    const layoutText = read('oci-layout');
    if (layoutText === undefined)
      throw invalid(flag, `${dir} is not an OCI image layout: it has no oci-layout file`);
    const layout = parseJsonText(layoutText, flag, path.join(dir, 'oci-layout'));
    if (
      typeof layout !== 'object' ||
      layout === null ||
      typeof (layout as { imageLayoutVersion?: unknown }).imageLayoutVersion !== 'string'
    )
      throw invalid(
        flag,
        `${dir} is not an OCI image layout: its oci-layout file names no imageLayoutVersion`,
      );
    const text = read('index.json');
    if (text === undefined)
      throw invalid(flag, `${dir} is not an OCI image layout: it has no index.json file`);
    const m = parseManifest(new TextEncoder().encode(text), undefined, `${dir}/index.json`);
    if (m.kind !== 'index') throw invalid(flag, `${dir}/index.json is not an image index`);
    // Every use of the index reads the blobs it lists: its length bounds the work a layout can
    // ask for (a 16 MiB index.json could list about 100,000 entries).
    if (m.manifests.length > MAX_INDEX_ENTRIES)
      throw invalid(
        flag,
        `${dir}/index.json lists ${m.manifests.length} manifests, more than the ${MAX_INDEX_ENTRIES} a layout may hold`,
      );
    this.index = m.manifests;
  }

  /** The image the layout holds: marked by cosign's kind annotation, else the only entry that is not a referrer. */
  async image(): Promise<FetchedManifest> {
    const marked = this.index.find((d) =>
      d.annotations?.[KIND]?.startsWith('dev.cosignproject.cosign/image'),
    );
    // Tags cosign and the referrers tag schema use for what is attached are not the image.
    const attached = /^sha(256|512)-[0-9a-f]+(\.(sig|att|sbom))?$/;
    let candidates = marked
      ? [marked]
      : this.index.filter(
          (d) => !d.annotations?.[KIND] && !attached.test(d.annotations?.[REF_NAME] ?? ''),
        );
    if (!marked) {
      const plain: Descriptor[] = [];
      // each digest read once, however often it is listed
      const isPlain = new Map<string, boolean>();
      for (const d of candidates) {
        let p = isPlain.get(d.digest.text);
        if (p === undefined) {
          const m = await this.getManifest(d.digest.text, this.name);
          p = m !== undefined && !parseManifest(m.bytes, m.mediaType, this.name).subject;
          isPlain.set(d.digest.text, p);
        }
        if (p) plain.push(d);
      }
      candidates = plain;
    }
    if (candidates.length !== 1)
      throw invalid(
        this.flag,
        `${this.dir} holds ${candidates.length} images; it must hold exactly one (as cosign save writes it)`,
      );
    return (await this.getManifest(candidates[0]!.digest.text, this.name))!;
  }

  /** The folders a blob's path goes through, checked once each: see readLayoutFile. */
  private readonly checkedFolders = new Set<string>();

  private blobPath(d: Digest): string {
    for (const folder of [
      path.join(this.dir, 'blobs'),
      path.join(this.dir, 'blobs', d.algorithm),
    ]) {
      if (this.checkedFolders.has(folder)) continue;
      let st: Stats | undefined;
      try {
        st = fs.lstatSync(folder);
      } catch {
        // missing: the blob is then missing too, and said so by the caller
      }
      if (st && !st.isDirectory()) throw invalid(this.flag, notRegular(folder, st, 'folder'));
      this.checkedFolders.add(folder);
    }
    return path.join(this.dir, 'blobs', d.algorithm, d.hex);
  }

  private read(d: Digest, what: string, max: number): Uint8Array | undefined {
    const data = readLayoutFile(this.blobPath(d), this.flag, max, (size) => {
      throw new SignetError(
        'too-large',
        'BLOB_TOO_LARGE',
        `${what}: blob ${d.text} is ${size} bytes, more than the ${max} byte limit`,
      );
    });
    if (data === undefined) return undefined;
    if (!matchesDigest(data, d))
      throw new SignetError(
        'verification',
        'DIGEST_MISMATCH',
        `${what}: blob ${d.text} does not match its digest`,
      );
    return data;
  }

  async getManifest(reference: string, what: string): Promise<FetchedManifest | undefined> {
    let d: Descriptor | undefined;
    if (/^sha(256|512):/.test(reference)) {
      const digest = parseDigest(reference, what);
      d = this.index.find((x) => x.digest.text === digest.text);
      if (!d) {
        const bytes = this.read(digest, what, MAX_MANIFEST_BYTES);
        if (!bytes) return undefined;
        return { bytes, mediaType: parseManifest(bytes, undefined, what).mediaType, digest };
      }
    } else {
      const kind = reference.endsWith('.sig')
        ? 'dev.cosignproject.cosign/sigs'
        : reference.endsWith('.att')
          ? 'dev.cosignproject.cosign/atts'
          : undefined;
      d =
        this.index.find((x) => x.annotations?.[REF_NAME] === reference) ??
        (kind ? this.index.find((x) => x.annotations?.[KIND] === kind) : undefined);
    }
    if (!d) return undefined;
    const bytes = this.read(d.digest, what, MAX_MANIFEST_BYTES);
    if (!bytes) throw invalid(this.flag, `${this.dir} lists ${d.digest.text} but has no such blob`);
    return {
      bytes,
      mediaType: parseManifest(bytes, d.mediaType, what).mediaType,
      digest: d.digest,
    };
  }

  async getBlob(digest: Digest, what: string, maxBytes = MAX_BLOB_BYTES): Promise<Uint8Array> {
    const b = this.read(digest, what, maxBytes);
    if (!b)
      throw new SignetError(
        'not-found',
        'BLOB_UNKNOWN',
        `${what}: ${this.dir} has no blob ${digest.text}`,
      );
    return b;
  }

  async openBlob(digest: Digest, what: string): Promise<NodeJS.ReadableStream> {
    const p = this.blobPath(digest);
    const opened = openLayoutFile(p, this.flag);
    if (!opened)
      throw new SignetError(
        'not-found',
        'BLOB_UNKNOWN',
        `${what}: ${this.dir} has no blob ${digest.text}`,
      );
    // Read from the descriptor that was checked, and no further than the size it had then
    // (the copy also counts the bytes against the descriptor's size).
    const { fd, size } = opened;
    if (size === 0) {
      fs.closeSync(fd);
      return process.getBuiltinModule('node:stream').Readable.from([]);
    }
    return fs.createReadStream(p, { fd, start: 0, end: size - 1 });
  }

  /** What index.json lists: the image, and what `cosign save` or `signet save` put beside it. */
  get entries(): readonly Descriptor[] {
    return this.index;
  }

  /** A layout always answers `referrers` from its own index. */
  answersReferrers(): boolean {
    return true;
  }

  /** Every manifest in index.json whose subject is `digest`. */
  async referrers(digest: Digest, what: string): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    // Each digest is read and hashed once, however often index.json lists it, and listed
    // once (as the registry API lists a manifest): the work is at most MAX_INDEX_ENTRIES reads
    // of at most MAX_MANIFEST_BYTES each.
    const seen = new Set<string>();
    for (const d of this.index) {
      if (seen.has(d.digest.text)) continue;
      seen.add(d.digest.text);
      const bytes = this.read(d.digest, what, MAX_MANIFEST_BYTES);
      if (!bytes) continue;
      let m;
      try {
        m = parseManifest(bytes, d.mediaType, what);
      } catch {
        continue;
      }
      if (m.subject?.digest.text !== digest.text) continue;
      const desc: Descriptor = { mediaType: m.mediaType, digest: d.digest, size: bytes.length };
      const at = m.artifactType ?? (m.kind === 'manifest' ? m.config.mediaType : undefined);
      if (at) desc.artifactType = at;
      if (m.annotations) desc.annotations = m.annotations;
      out.push(desc);
    }
    return out;
  }
}

/**
 * A file of the layout (oci-layout, index.json, a blob), opened only if it is a regular file
 * itself; undefined if it does not exist.
 *
 * A symbolic link is refused whatever it points to, even another file of the same layout:
 * skopeo, oras, cosign save and signet save never write one, a content-addressed blob needs no
 * second name, and following one reads outside the folder (/etc/shadow, read before the digest
 * check fails) or from a device (/dev/zero, without end); checking that a link stays inside
 * the folder would race with the link being changed. A FIFO, socket or device is refused too:
 * opened without blocking (a FIFO with no writer would wait forever) and checked with fstat on
 * the descriptor that is then read, so what is checked is what is read.
 */
function openLayoutFile(file: string, flag: string): { fd: number; size: number } | undefined {
  let opened;
  try {
    opened = openRegularFile(file);
  } catch (e) {
    throw invalid(flag, describeSystemError(e, file), e);
  }
  if (opened === undefined) return undefined;
  if ('refused' in opened) throw invalid(flag, notRegular(file, opened.refused, 'file'));
  return { fd: opened.fd, size: opened.stats.size };
}

/**
 * A layout file's bytes (undefined if it does not exist): at most the size fstat reported when
 * it was opened, and `tooLarge` is called (and must throw) when that is more than `max`.
 */
function readLayoutFile(
  file: string,
  flag: string,
  max: number,
  tooLarge: (size: number) => never,
): Uint8Array | undefined {
  const opened = openLayoutFile(file, flag);
  if (!opened) return undefined;
  const { fd, size } = opened;
  try {
    if (size > max) tooLarge(size);
    const data = new Uint8Array(size);
    let n = 0;
    while (n < size) {
      const r = fs.readSync(fd, data, n, size - n, n);
      if (r === 0) break;
      n += r;
    }
    return n === size ? data : data.subarray(0, n);
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw invalid(flag, describeSystemError(e, file), e);
  } finally {
    fs.closeSync(fd);
  }
}

/** Why `p` (of the layout) is refused: it is a link, a FIFO, a device... and not a `want`. */
function notRegular(p: string, st: Stats, want: 'file' | 'folder'): string {
  const a = want === 'file' ? 'a regular file' : 'a folder';
  return `${p} is ${specialFileKind(p, st)}, not ${a}; an OCI image layout holds only regular files and folders (links are not followed)`;
}
