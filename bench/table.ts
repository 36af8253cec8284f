/**
 * The closing table of `npm run bench`: each benchmark returns the targets it measured (as
 * ratios within the same run, since absolute figures move with the machine and its load).
 */
export interface TargetRow {
  /** The target, as the issue states it. */
  target: string;
  /** The raw figures the ratio comes from. */
  measured: string;
  /** The measured ratio, in the unit of the target (e.g. "2.1x", "83 %"). */
  ratio: string;
  met: boolean;
}

export function printTable(rows: readonly TargetRow[]): void {
  const w = (k: keyof TargetRow) => Math.max(k.length, ...rows.map((r) => String(r[k]).length));
  const [wt, wm, wr] = [w('target'), w('measured'), w('ratio')];
  const line = (t: string, m: string, r: string, x: string) =>
    `${t.padEnd(wt)} | ${m.padEnd(wm)} | ${r.padEnd(wr)} | ${x}`;
  console.log(line('target', 'measured', 'ratio', 'met'));
  console.log(line('-'.repeat(wt), '-'.repeat(wm), '-'.repeat(wr), '---'));
  for (const r of rows) console.log(line(r.target, r.measured, r.ratio, r.met ? 'yes' : 'NO'));
}
