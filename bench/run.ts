/**
 * `npm run bench`: runs every benchmark module under bench/ in one process run and prints the
 * figures, then a closing table of the targets each module measured. Each module exports
 * `run(): Promise<TargetRow[] | void>` and prints its own lines. `npm run bench -- NAME` runs
 * the modules whose file name contains NAME. Modules in ON_REQUEST take many minutes (a log
 * filled to 200,000 or 1,000,000 entries) and run only when named, so the whole run stays a few
 * minutes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { printTable, type TargetRow } from './table.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const ON_REQUEST = [
  'scale.bench.ts',
  'monitor.bench.ts',
  'crash.bench.ts',
  'malformed.bench.ts',
  'metrics.bench.ts',
];
const only = process.argv[2];
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (only ? f.includes(only) : !ON_REQUEST.includes(f)))
  .sort();
console.log(
  `signet benchmarks — node ${process.versions.node}, ${os.availableParallelism()} cores, load average ${os.loadavg()[0]!.toFixed(1)}`,
);
const rows: TargetRow[] = [];
const t0 = performance.now();
for (const f of files) {
  const mod = (await import(path.join(here, f))) as { run: () => Promise<TargetRow[] | void> };
  console.log(`\n## ${f.replace('.bench.ts', '')}`);
  rows.push(...((await mod.run()) ?? []));
}
console.log(
  `\n## targets (one run, ${((performance.now() - t0) / 1000).toFixed(0)} s, load average at the end ${os.loadavg()[0]!.toFixed(1)})`,
);
printTable(rows);
