import type { ErrorCode } from '../core/errors.ts';
import fs from 'node:fs';
import { describeSystemError, SignetError } from '../core/errors.ts';

/**
 * Reads a text file named by configuration or a flag (a config file, a key, a certificate chain).
 * A failure says what the file was for and why it could not be read, e.g.
 * `ca.certChain: cannot read CA certificate chain: /etc/ca.pem does not exist; check the path`.
 */
export function readTextFile(
  file: string,
  what: string,
  opts: { code?: ErrorCode; field?: string } = {},
): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SignetError(
      'invalid-input',
      opts.code ?? 'INVALID_INPUT',
      `cannot read ${what}: ${describeSystemError(e, file)}`,
      { cause: e, ...(opts.field === undefined ? {} : { field: opts.field }) },
    );
  }
}
