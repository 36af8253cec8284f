/**
 * What a verification found, as plain JSON and as words: who signed (a certificate's identity,
 * or a key's fingerprint), the verified times and the log entries. One form for every report
 * that lists verified signatures (images, commit attestations).
 */
import type { KeyObject } from 'node:crypto';
import { digest } from '../../core/crypto/digest.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { logName } from './tlog.ts';
import type { VerificationResult } from './verifier.ts';

export interface ResultReport {
  /** A certificate's identity, or a key's fingerprint (`sha256:<hex>` of its DER SPKI). */
  signer: { identity: string[]; issuer: string | null } | { key: string };
  times: Array<{ time: string; source: string; by: string }>;
  tlog: Array<{ logIndex: number; log: string; kind: string }>;
}

/**
 * `sha256:<hex>` of the key's DER SubjectPublicKeyInfo: what tells one key from another (the
 * DER's first bytes name only the algorithm and curve, the same for every P-256 key).
 */
function keyFingerprint(key: KeyObject): string {
  return `sha256:${toHex(digest('sha256', new Uint8Array(key.export({ type: 'spki', format: 'der' }))))}`;
}

export function resultReport(r: VerificationResult): ResultReport {
  return {
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
  };
}

/** `by WHO at WHEN; log index N at LOG`: one verification in words. */
export function describeReport(r: ResultReport): string {
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
  // A signature accepted without a log entry or timestamp (--insecure-ignore-tlog) has no time.
  return `by ${who}${when ? ` at ${when}` : ', no trusted time'}; ${log || 'no log entry'}`;
}
