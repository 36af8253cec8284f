/** A verification as plain JSON (the CLI's `-o json`, and what a webhook can log). */
import type { KeyObject } from 'node:crypto';
import { digest } from '../../core/crypto/digest.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { logName } from '../verify/tlog.ts';
import type { ImageVerification, VerifiedAttachment } from './verify.ts';

export interface AttachmentReport {
  kind: 'signature' | 'attestation';
  scheme: 'referrer' | 'legacy';
  location: string;
  /** A certificate's identity, or a key's fingerprint (`sha256:<hex>` of its DER SPKI). */
  signer: { identity: string[]; issuer: string | null } | { key: string };
  times: Array<{ time: string; source: string; by: string }>;
  tlog: Array<{ logIndex: number; log: string; kind: string }>;
  annotations: Record<string, unknown>;
  statement?: unknown;
  payload?: unknown;
}

/**
 * `sha256:<hex>` of the key's DER SubjectPublicKeyInfo: what tells one key from another (the
 * DER's first bytes name only the algorithm and curve, the same for every P-256 key).
 */
function keyFingerprint(key: KeyObject): string {
  return `sha256:${toHex(digest('sha256', new Uint8Array(key.export({ type: 'spki', format: 'der' }))))}`;
}

export function attachmentReport(v: VerifiedAttachment): AttachmentReport {
  const r = v.result;
  const out: AttachmentReport = {
    kind: v.kind,
    scheme: v.scheme,
    location: v.location,
    signer:
      r.signer.kind === 'certificate'
        ? { identity: r.signer.identity, issuer: r.signer.issuer ?? null }
        : { key: keyFingerprint(r.signer.key) },
    times: r.times.map((t) => ({ time: t.time.toISOString(), source: t.source, by: t.by })),
    tlog: r.tlogEntries.map(({ entry, log }) => ({
      logIndex: entry.logIndex,
      log: logName(log),
      kind: `${entry.kind} ${entry.kindVersion}`,
    })),
    annotations: v.annotations,
  };
  if (v.statement !== undefined) out.statement = v.statement;
  if (v.payload !== undefined) out.payload = v.payload;
  return out;
}

export function verificationReport(v: ImageVerification): Record<string, unknown> {
  return {
    image: `${v.image.ref.registry}/${v.image.ref.repository}@${v.image.digest.text}`,
    digest: v.image.digest.text,
    found: v.found,
    tried: v.tried,
    valid: v.verified.length,
    verified: v.verified.map(attachmentReport),
    rejected: v.rejected,
    ...(v.skipped > 0 ? { skipped: v.skipped } : {}),
  };
}

/** One line per verified signature: who, when, which log index, where it was stored. */
export function describeAttachment(v: VerifiedAttachment): string {
  const r = attachmentReport(v);
  const who =
    'identity' in r.signer
      ? `${r.signer.identity.join(', ')} (issuer ${r.signer.issuer ?? 'unknown'})`
      : 'the given public key';
  const when = r.times
    .map(
      (t) =>
        `${t.time} (${t.source === 'timestamp-authority' ? 'timestamp authority' : 'transparency log'})`,
    )
    .join(', ');
  const log = r.tlog.map((t) => `log index ${t.logIndex} at ${t.log}`).join(', ');
  const pt =
    v.result.statement && v.kind === 'attestation' ? ` ${v.result.statement.predicateType}` : '';
  // A signature accepted without a log entry or timestamp (--insecure-ignore-tlog) has no time.
  return `${v.kind}${pt} by ${who}${when ? ` at ${when}` : ', no trusted time'}; ${log || 'no log entry'}; ${v.location}`;
}
