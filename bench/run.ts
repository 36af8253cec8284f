/**
 * `npm run bench`: runs every benchmark module under bench/ in one process run and prints the
 * figures. Each module exports `run(): Promise<void>` and prints its own lines.
 */
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const only = process.argv[2];
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only)))
  .sort();
console.log(
  `signet benchmarks — node ${process.versions.node}, ${(await import('node:os')).availableParallelism()} cores`,
);
for (const f of files) {
  const mod = (await import(path.join(here, f))) as { run: () => Promise<void> };
  console.log(`\n## ${f.replace('.bench.ts', '')}`);
  await mod.run();
}
