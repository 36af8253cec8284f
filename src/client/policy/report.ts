/**
 * Decisions for people (text) and machines (JSON): per artifact, which policy matched, which
 * authority satisfied it or, for each authority, why not, and in warn mode what would have failed.
 */
import type { Decision } from './engine.ts';

export function decisionToJSON(d: Decision): Record<string, unknown> {
  return {
    artifact: d.target,
    kind: d.kind,
    allowed: d.allowed,
    noMatch: d.noMatch,
    errors: d.errors,
    warnings: d.warnings,
    policies: d.policies.map((p) => ({
      name: p.name,
      source: p.source,
      mode: p.mode,
      passed: p.passed,
      threshold: p.threshold,
      reasons: p.reasons,
      authorities: p.authorities.map((a) => ({
        name: a.name,
        kind: a.kind,
        passed: a.passed,
        satisfiedBy: a.satisfiedBy,
        reasons: a.reasons,
        ...(a.message !== undefined ? { message: a.message } : {}),
      })),
    })),
  };
}

export function decisionToText(d: Decision): string {
  const lines: string[] = [];
  const verdict = d.allowed ? (d.warnings.length ? 'ALLOWED with warnings' : 'ALLOWED') : 'DENIED';
  lines.push(`${d.target} (${d.kind}): ${verdict}`);
  if (d.noMatch) lines.push('  no policy covers this artifact');
  for (const p of d.policies) {
    const state = p.passed
      ? 'passed'
      : p.mode === 'warn'
        ? 'FAILED (warn mode: not enforced)'
        : 'FAILED';
    lines.push(`  policy "${p.name}" (${p.source}, ${p.mode}): ${state}`);
    for (const r of p.reasons) lines.push(`    ${r}`);
    for (const a of p.authorities) {
      if (a.passed) {
        const by = a.satisfiedBy.map(
          (s) => `${s.signer}${s.attestation ? ` [${s.attestation}]` : ''} via ${s.evidence}`,
        );
        lines.push(
          `    authority "${a.name}" (${a.kind}): satisfied${by.length ? ` by ${by.join(', ')}` : a.message ? `: ${a.message}` : ''}`,
        );
      } else {
        lines.push(`    authority "${a.name}" (${a.kind}): not satisfied`);
        for (const r of a.reasons) lines.push(`      - ${r}`);
      }
    }
  }
  for (const w of d.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
