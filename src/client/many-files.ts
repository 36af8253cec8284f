/**
 * What signing and verifying several files in one run share: where a file's bundle is, and the
 * checks on the command line that come before any file is read.
 */
import { invalid } from '../core/errors.ts';
const path = process.getBuiltinModule('node:path');

/** The name a file's bundle has beside it, after the file's own. */
const BESIDE = '.sigstore.json';

/**
 * Where a file's bundle is when no flag names it: beside it, as `FILE.sigstore.json` (what
 * `signet sign-blob` writes for several files, and sigstore-python for every file).
 */
export function bundleBeside(file: string): string {
  return `${file}${BESIDE}`;
}

/** `-`: the artifact is read from standard input, as cosign's sign-blob and verify-blob take it. */
export const STDIN = '-';

/** True when none of these inputs is standard input (which can then carry a key's passphrase). */
export function stdinFree(...inputs: ReadonlyArray<string | undefined>): boolean {
  return !inputs.includes(STDIN);
}

/**
 * The files of a run over several: a file named twice (as `a.txt` and `./a.txt` too) is refused,
 * its bundle would be written or read twice; so is a file that is the bundle of another one
 * given (`a.txt.sigstore.json` beside `a.txt`, as `signet sign-blob release/*` after a first run
 * names them): signing it would sign a bundle and then overwrite it with the new one, and
 * verifying it would look for its own bundle. Both before any file is read or signed.
 */
export function refuseRepeats(files: readonly string[], field: string): void {
  const seen = new Map<string, string>();
  for (const f of files) {
    if (f === STDIN)
      throw invalid(field, '- (standard input) is one artifact: give it alone, with --bundle');
    const abs = path.resolve(f);
    if (seen.has(abs)) throw invalid(field, `${f} is given twice`);
    seen.set(abs, f);
  }
  for (const [abs, f] of seen) {
    const artifact = seen.get(abs.slice(0, -BESIDE.length));
    if (abs.endsWith(BESIDE) && artifact !== undefined)
      throw invalid(
        field,
        `${f} is the bundle of ${artifact}, which is given too: give the artifacts only (a pattern such as dir/* takes their bundles in as well)`,
      );
  }
}

/**
 * Flags that name one file's input or output make no sense with several files: the first one
 * given is refused, saying where the bundles are instead (`reason`).
 */
export function refuseOneFileFlags(
  given: ReadonlyArray<readonly [flag: string, value: unknown]>,
  reason: string,
): void {
  for (const [flag, value] of given) if (value !== undefined) throw invalid(flag, reason);
}
