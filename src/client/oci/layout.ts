/**
 * A local OCI image layout (image-spec image-layout.md) as a read-only image source, for
 * `--local-image DIR`: `index.json` names the image (cosign save marks it with
 * `kind: dev.cosignproject.cosign/image|imageIndex` and its signatures with `.../sigs`, `.../atts`),
 * blobs live under `blobs/<alg>/<hex>`, and referrers are found by their `subject`.
 */
import type { Stats } from 'node:fs';
import path from 'node:path';
import { describeSystemError, invalid, SignetError } from '../../core/errors.ts';
import { matchesDigest, parseDigest, type Digest } from '../../core/oci/digest.ts';
import { MAX_MANIFEST_BYTES, parseManifest, type Descriptor } from '../../core/oci/manifest.ts';
import { MAX_BLOB_BYTES, type FetchedManifest } from './registry.ts';
import type { ImageSource } from './source.ts';
import { parseJsonText } from '../../core/json.ts';
import { readDocument } from '../file-or-url.ts';
const fs = process.getBuiltinModule('node:fs');

const KIND = 'kind';
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
    if (!fs.existsSync(path.join(dir, 'oci-layout')))
      throw invalid(flag, `${dir} is not an OCI image layout: it has no oci-layout file`);
    const read = (name: string) => readDocument(path.join(dir, name), flag);
    const layout = parseJsonText(read('oci-layout'), flag, path.join(dir, 'oci-layout'));
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
    const m = parseManifest(new TextEncoder().encode(text), undefined, `${dir}/index.json`);
    if (m.kind !== 'index') throw invalid(flag, `${dir}/index.json is not an image index`);
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
      for (const d of candidates) {
        const m = await this.getManifest(d.digest.text, this.name);
        if (m && !parseManifest(m.bytes, m.mediaType, this.name).subject) plain.push(d);
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

  private blobPath(d: Digest): string {
    return path.join(this.dir, 'blobs', d.algorithm, d.hex);
  }

  private read(d: Digest, what: string, max: number): Uint8Array | undefined {
    const p = this.blobPath(d);
    let st: Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return undefined;
    }
    if (st.size > max)
      throw new SignetError(
        'too-large',
        'BLOB_TOO_LARGE',
        `${what}: blob ${d.text} is ${st.size} bytes, more than the ${max} byte limit`,
      );
    const data = new Uint8Array(fs.readFileSync(p));
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
    if (!fs.existsSync(p))
      throw new SignetError(
        'not-found',
        'BLOB_UNKNOWN',
        `${what}: ${this.dir} has no blob ${digest.text}`,
      );
    return fs.createReadStream(p);
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
    for (const d of this.index) {
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
