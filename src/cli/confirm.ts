import { SignetError } from '../core/errors.ts';
const fs = process.getBuiltinModule('node:fs');

/**
 * cosign's question before a step that cannot be undone (its ui.ConfirmContinue): `warning` and
 * "Are you sure ...? [y/N]" on stderr, one line read from standard input; only y or Y goes on.
 * No answer (a script that gave no `--force`, standard input closed) is a no, as in cosign.
 */
export function confirmContinue(warning: string, force: string): void {
  process.stderr.write(`WARNING: ${warning}\nAre you sure you would like to continue? [y/N] `);
  const answer = readLine().trim();
  if (answer === 'y' || answer === 'Y') return;
  throw new SignetError(
    'invalid-input',
    'CANCELLED',
    `not done: ${warning.replace(/^this will /, 'it would ')}, and it was not confirmed (answer y, or give ${force})`,
  );
}

/** One line of standard input (at most 1 KiB), read a byte at a time so nothing after it is taken. */
function readLine(): string {
  const byte = Buffer.alloc(1);
  const bytes: number[] = [];
  while (bytes.length < 1024) {
    let n: number;
    try {
      n = fs.readSync(0, byte, 0, 1, null);
    } catch {
      break; // no standard input to read (closed, or non-blocking with nothing in it): no answer
    }
    if (n === 0 || byte[0] === 0x0a) break;
    bytes.push(byte[0]!);
  }
  return Buffer.from(bytes).toString('utf8');
}
