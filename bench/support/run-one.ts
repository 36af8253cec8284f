/**
 * A bench module's own process (support/isolated.ts starts it): runs the module's `run()` and
 * writes the rows it returns (JSON) to the file named second.
 */
import fs from 'node:fs';
import type { TargetRow } from '../table.ts';

const [file, out] = process.argv.slice(2);
const mod = (await import(file!)) as { run: () => Promise<TargetRow[] | void> };
fs.writeFileSync(out!, JSON.stringify((await mod.run()) ?? []));
