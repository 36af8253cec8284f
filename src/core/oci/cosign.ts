/**
 * The names cosign gives to what it stores in registries (cosign pkg/types/media.go,
 * pkg/oci/static/signature.go, pkg/oci/remote/write.go, specs/BUNDLE_SPEC.md).
 */
import { digestTag, type Digest } from './digest.ts';
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The older spelling of the v0.3 bundle media type, still read. */
export const BUNDLE_MEDIA_TYPES = [
  BUNDLE_MEDIA_TYPE,
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];

/** Layer annotations of a legacy signature. */
export const ANN_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const ANN_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const ANN_CHAIN = 'dev.sigstore.cosign/chain';
export const ANN_BUNDLE = 'dev.sigstore.cosign/bundle';
export const ANN_TIMESTAMP = 'dev.sigstore.cosign/rfc3161timestamp';
/** Layer annotation of a legacy attestation: the predicate type. */
export const ANN_PREDICATE_TYPE = 'predicateType';

/** Referrer manifest annotations (cosign WriteAttestationNewBundleFormat). */
export const ANN_BUNDLE_CONTENT = 'dev.sigstore.bundle.content';
export const ANN_BUNDLE_PREDICATE = 'dev.sigstore.bundle.predicateType';
export const ANN_CREATED = 'org.opencontainers.image.created';

/** The predicate type `cosign sign` signs (cosign pkg/types/predicate.go). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export type LegacySuffix = 'sig' | 'att' | 'sbom';

/**
 * The tag of the legacy image of `suffix` attached to `digest`: `[prefix]sha256-<hex>.sig`
 * (cosign's ociremote.WithPrefix, --attachment-tag-prefix; policy-controller's tagPrefix).
 */
export function legacyTag(digest: Digest, suffix: LegacySuffix, prefix = ''): string {
  return `${prefix}${digestTag(digest)}.${suffix}`;
}
