import type { Digest } from '../../core/oci/digest.ts';
import type { Descriptor } from '../../core/oci/manifest.ts';
import type { FetchedManifest } from './registry.ts';

/** Where images and their signatures are read from: a registry repository or a local layout. */
export interface ImageSource {
  readonly name: string;
  /** The prefix of legacy `.sig`/`.att`/`.sbom` tags here (cosign --attachment-tag-prefix). */
  readonly tagPrefix?: string;
  getManifest(reference: string, what: string): Promise<FetchedManifest | undefined>;
  getBlob(digest: Digest, what: string, maxBytes?: number): Promise<Uint8Array>;
  /** A blob as an unread stream (image layers may be GiBs): `copy`, `save` and `load`. */
  openBlob(digest: Digest, what: string): Promise<NodeJS.ReadableStream>;
  /** undefined: no referrers API here (use the referrers tag schema). */
  referrers(digest: Digest, what: string): Promise<Descriptor[] | undefined>;
  /**
   * True when `referrers` is known to answer without asking (a layout; a registry whose API
   * answered lately): the tag schema is then not read on the chance that it is needed.
   */
  answersReferrers?(): boolean;
}
