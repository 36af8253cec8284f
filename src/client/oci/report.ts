/** A verification as plain JSON (the CLI's `-o json`, and what a webhook can log). */
import { describeReport, resultReport, type ResultReport } from '../verify/report.ts';
import type { ImageVerification, VerifiedAttachment } from './verify.ts';

export interface AttachmentReport extends ResultReport {
  kind: 'signature' | 'attestation';
  scheme: 'referrer' | 'legacy';
  location: string;
  annotations: Record<string, unknown>;
  statement?: unknown;
  payload?: unknown;
}

export function attachmentReport(v: VerifiedAttachment): AttachmentReport {
  const out: AttachmentReport = {
    kind: v.kind,
    scheme: v.scheme,
    location: v.location,
    ...resultReport(v.result),
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
  const pt =
    v.result.statement && v.kind === 'attestation' ? ` ${v.result.statement.predicateType}` : '';
  return `${v.kind}${pt} ${describeReport(resultReport(v.result))}; ${v.location}`;
}
