import { invalid } from '../../core/errors.ts';
import { fromBase64 } from '../../core/encoding/base64.ts';
import { isObject } from '../../core/rekor/json.ts';

/**
 * Checking a bundle dropped on the explorer. The check itself is the client's one verifier
 * (client/verify/verifier.ts); the services layer may not import the client, so whoever starts
 * the stack hands it in (`signet up` does: cli/explorer-check.ts). The explorer supplies the
 * stack's own trusted root and shows the answer.
 */
export interface BundleCheckRequest {
  /** The bundle file's text, and its name as the person dropped it. */
  bundle: string;
  bundleName: string;
  /** The signed file: its bytes, or only its digest (the browser hashed a large file). */
  artifact:
    | { kind: 'bytes'; name: string; data: Uint8Array }
    | { kind: 'digest'; name: string; digest: string }
    | undefined;
  /** trusted_root.json of this stack, as its TUF repository serves it. */
  trustedRoot: Uint8Array;
}

export interface BundleCheckAnswer {
  ok: boolean;
  /** The verdict in verify-blob's words: `Verified OK: signed by ...` or `error: ...`. */
  verdict: string;
  /** Who signed: verified when `ok`, else what the bundle claims (if it could be read). */
  signer?: { identities: string[]; issuer: string | undefined; verified: boolean } | undefined;
  /** What the bundle says (`signet inspect`'s lines) and what was checked against what. */
  notes: string[];
}

export type BundleCheck = (req: BundleCheckRequest) => Promise<BundleCheckAnswer>;

/** A bundle is at most 16 MiB (client/file-or-url.ts MAX_DOCUMENT_BYTES); files sent whole up to 8 MiB. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;
export const MAX_ARTIFACT_BYTES = 8 * 1024 * 1024;
/** JSON request: the bundle text plus the artifact in base64, with room for the field names. */
export const VERIFY_BODY_LIMIT = MAX_BUNDLE_BYTES + Math.ceil((MAX_ARTIFACT_BYTES * 4) / 3) + 4096;

/** The POST body `{bundle, bundleName?, artifact?: {name?, base64} | {name?, digest}}`. */
export function parseCheckRequest(body: unknown, trustedRoot: Uint8Array): BundleCheckRequest {
  if (!isObject(body)) throw invalid('', 'must be a JSON object {bundle, artifact?}');
  for (const k of Object.keys(body))
    if (!['bundle', 'bundleName', 'artifact'].includes(k)) throw invalid(k, 'is not a known field');
  const bundle = body.bundle;
  if (typeof bundle !== 'string' || bundle === '')
    throw invalid('bundle', 'is required: the text of the bundle file');
  if (Buffer.byteLength(bundle) > MAX_BUNDLE_BYTES)
    throw invalid('bundle', `is ${Buffer.byteLength(bundle)} bytes; a bundle is at most 16 MiB`);
  const name = (v: unknown, field: string, dflt: string) => {
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || v.length > 255) throw invalid(field, 'must be a file name');
    return v;
  };
  const bundleName = name(body.bundleName, 'bundleName', 'the bundle');
  let artifact: BundleCheckRequest['artifact'];
  if (body.artifact !== undefined && body.artifact !== null) {
    const a = body.artifact;
    if (!isObject(a)) throw invalid('artifact', 'must be {name, base64} or {name, digest}');
    for (const k of Object.keys(a))
      if (!['name', 'base64', 'digest'].includes(k))
        throw invalid(`artifact.${k}`, 'is not a known field');
    const aName = name(a.name, 'artifact.name', 'the artifact');
    if (typeof a.base64 === 'string' && a.digest === undefined) {
      const data = fromBase64(a.base64, 'artifact.base64', false);
      if (data.length > MAX_ARTIFACT_BYTES)
        throw invalid('artifact.base64', `is ${data.length} bytes; send larger files as a digest`);
      artifact = { kind: 'bytes', name: aName, data };
    } else if (typeof a.digest === 'string' && a.base64 === undefined) {
      if (!/^sha256:[0-9a-f]{64}$/.test(a.digest))
        throw invalid('artifact.digest', 'must be sha256:<64 lower-case hex digits>');
      artifact = { kind: 'digest', name: aName, digest: a.digest };
    } else throw invalid('artifact', 'give exactly one of base64 or digest');
  }
  return { bundle, bundleName, artifact, trustedRoot };
}
