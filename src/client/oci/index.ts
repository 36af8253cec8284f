/**
 * Container images: the library API behind `signet sign|verify|attest|verify-attestation|tree|
 * download|copy|clean|triangulate` (and the admission webhook). Stable entry points:
 * resolveImage, verifyImage / checkImage, signImage, attestImage, discover.
 */
export {
  resolveImage,
  resolveRecursive,
  resolvePlatform,
  repositoryOf,
  attachmentsOf,
  type ResolvedImage,
} from './image.ts';
export {
  verifyImage,
  checkImage,
  verifyAttachment,
  type ImageVerifyOptions,
  type ImageVerification,
  type VerifiedAttachment,
} from './verify.ts';
export {
  signImage,
  signResolved,
  checkSignOptions,
  checkReferrersMode,
  attestImage,
  attestResolved,
  attestationStatement,
  type ImageSignOptions,
  type ImageAttestOptions,
  type ImageWriteOptions,
  type SignedImage,
  type AttestInput,
  type ReferrersMode,
} from './sign.ts';
export {
  AttachmentBudget,
  discover,
  listReferrers,
  type Attachment,
  type AttachmentKind,
  type Discovery,
} from './discover.ts';
export { Repository, isLoopback, type RegistryOptions } from './registry.ts';
export { LocalLayout } from './layout.ts';
export type { ImageSource } from './source.ts';
export { verificationReport, attachmentReport, describeAttachment } from './report.ts';
export { parseReference, formatReference, type ImageReference } from '../../core/oci/reference.ts';
export {
  tree,
  formatTree,
  download,
  copyImage,
  saveImage,
  loadImage,
  cleanImage,
  triangulate,
  type Tree,
  type CleanType,
  type TriangulateType,
} from './plumbing.ts';
export { attachToImage, type AttachFile, type Attached } from './attach.ts';
export { imageConfigs } from './config.ts';
