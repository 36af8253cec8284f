// Adds to src/core/error-codes.ts the codes tsc reports as missing from the ErrorCode union
// (run after adding a new failure mode: node scripts/error-codes.mjs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const file = 'src/core/error-codes.ts';
for (let i = 0; i < 10; i++) {
  const text = fs.readFileSync(file, 'utf8');
  const codes = new Set([...text.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]));
  const out = spawnSync('npx', ['tsc', '-p', '.'], { encoding: 'utf8' }).stdout;
  const missing = new Set();
  for (const line of out.split('\n'))
    if (/ErrorCode/.test(line))
      for (const m of line.matchAll(/'"([A-Z][A-Z0-9_]+)"'/g)) if (!codes.has(m[1])) missing.add(m[1]);
  if (missing.size === 0) break;
  for (const c of missing) codes.add(c);
  const body = [...codes].sort().map((c) => `  | '${c}'`).join('\n');
  fs.writeFileSync(file, `${text.slice(0, text.indexOf('export type ErrorCode ='))}export type ErrorCode =\n${body};\n`);
  console.log(`added ${[...missing].join(', ')}`);
}
