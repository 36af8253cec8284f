/**
 * rekor-monitor's `outputIdentities` file: each found identity appended as one line, as
 * rekor-monitor writes it (mon:pkg/util/file WriteIdentity), so tooling that reads that file
 * keeps working. One line per rule an entry matched: `json` is Go's encoding of rekor-monitor's
 * LogEntry (its field names, the rule as `MatchedIdentity`); `text` is the entry's non-empty
 * values joined by spaces, as rekor-monitor's, then the log the entry is in (its URL, as the
 * alerts name it): rekor-monitor follows one log, this monitor may follow several into one
 * file, and an index alone does not say whose entry it is. Entries of Rekor v1 and v2 alike
 * have no UUID here (rekor-monitor leaves it empty for v2).
 */
import type { IdentityAlert } from './alerts.ts';
import type { MonitorConfig } from './config.ts';
const fs = process.getBuiltinModule('node:fs');

export interface RekorMonitorEntry {
  MatchedIdentity: Record<string, unknown>;
  CertSubject: string;
  Issuer: string;
  Fingerprint: string;
  Subject: string;
  Index: number;
  UUID: string;
  OIDExtension: number[] | null;
  ExtensionValue: string;
}

const RULE = /^(certIdentities|subjects|fingerprints|oidMatchers)\[([0-9]+)\]$/;

/** The alert as rekor-monitor's LogEntry values, one per rule match (issuers go with subjects). */
export function rekorMonitorEntries(alert: IdentityAlert, c: MonitorConfig): RekorMonitorEntry[] {
  const out: RekorMonitorEntry[] = [];
  for (const m of alert.matches) {
    const r = RULE.exec(m.rule);
    if (!r || m.field === 'issuer') continue;
    const i = Number(r[2]);
    const e: RekorMonitorEntry = {
      MatchedIdentity: {},
      CertSubject: '',
      Issuer: '',
      Fingerprint: '',
      Subject: '',
      Index: alert.logIndex,
      UUID: '',
      OIDExtension: null,
      ExtensionValue: '',
    };
    // Go marshals MatchedIdentity from a map: its keys sorted.
    if (r[1] === 'certIdentities') {
      const rule = c.certIdentities[i]!;
      const issuers = rule.issuers.map((x) => x.pattern);
      e.MatchedIdentity = {
        certSubject: rule.subject.pattern,
        issuers: issuers.length > 0 ? issuers : null,
        type: 'certIdentity',
      };
      e.CertSubject = m.value;
      e.Issuer = alert.issuer ?? '';
    } else if (r[1] === 'subjects') {
      e.MatchedIdentity = { subject: m.pattern, type: 'subject' };
      e.Subject = m.value;
    } else if (r[1] === 'fingerprints') {
      e.MatchedIdentity = { fingerprint: m.pattern, type: 'fingerprint' };
      e.Fingerprint = m.value;
    } else {
      const rule = c.oidMatchers[i]!;
      e.OIDExtension = rule.oid.split('.').map(Number);
      e.MatchedIdentity = {
        extensionValues: rule.values,
        oid: e.OIDExtension,
        type: 'oidExtension',
      };
      e.ExtensionValue = m.value;
    }
    out.push(e);
  }
  return out;
}

function textLine(e: RekorMonitorEntry, log: string): string {
  return [
    e.CertSubject,
    e.Issuer,
    e.Fingerprint,
    e.Subject,
    String(e.Index),
    e.UUID,
    e.OIDExtension?.join('.') ?? '',
    e.ExtensionValue,
    log,
  ]
    .filter((s) => s.trim() !== '')
    .join(' ');
}

/** Append the alert's lines to the config's `outputIdentities` file. */
export function appendIdentities(
  out: NonNullable<MonitorConfig['outputIdentities']>,
  alert: IdentityAlert,
  c: MonitorConfig,
): void {
  const lines = rekorMonitorEntries(alert, c).map((e) =>
    out.format === 'json' ? JSON.stringify(e) : textLine(e, alert.log),
  );
  if (lines.length > 0) fs.appendFileSync(out.file, `${lines.join('\n')}\n`, { mode: 0o644 });
}
