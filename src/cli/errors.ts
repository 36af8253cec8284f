/**
 * How a failure ends the `signet` command: one line on stderr, never a stack trace or raw errno
 * text, and cosign's exit codes where they apply (cosign doc/cosign_exit_codes.md):
 *   10 no signature found (the bundle file does not exist)
 *   11 not found (the artifact, image or tag named does not exist)
 *   12 no matching signature (a signature exists but a check failed: signature, log, chain, identity)
 *   13 no certificate (an identity was asked for but the signature is by a bare key)
 * Everything else is 1. Commands of other features reuse this: throw a SignetError with one of
 * the codes below (or of kind 'verification') and the exit code follows.
 */
import { describeSystemError, jsonProblem, SignetError } from '../core/errors.ts';
import { printable } from '../core/encoding/printable.ts';

export const EXIT_NO_SIGNATURE = 10;
export const EXIT_NOT_FOUND = 11;
export const EXIT_NO_MATCHING_SIGNATURE = 12;
export const EXIT_NO_CERTIFICATE = 13;

const BY_CODE: Partial<Record<string, number>> = {
  NO_SIGNATURE: EXIT_NO_SIGNATURE,
  NOT_SIGNED: EXIT_NO_SIGNATURE,
  NOT_FOUND: EXIT_NOT_FOUND,
  IMAGE_NOT_FOUND: EXIT_NOT_FOUND,
  NO_MATCHING_SIGNATURE: EXIT_NO_MATCHING_SIGNATURE,
  NO_CERTIFICATE: EXIT_NO_CERTIFICATE,
  // signing: the new bundle failed its own check; that is a failed signing, not a verdict
  NEW_BUNDLE_UNVERIFIED: 1,
  // a policy's verdict is reported as cosign reports --policy failures: exit 1
  POLICY_DENIED: 1,
  POLICY_TEST_FAILED: 1,
};

export function exitCodeFor(e: unknown): number {
  if (!(e instanceof SignetError)) return 1;
  const byCode = BY_CODE[e.code];
  if (byCode !== undefined) return byCode;
  // A trust source that fails its own verification (TUF) is not a verdict on the signature.
  return e.kind === 'verification' && !e.code.startsWith('TUF_') ? EXIT_NO_MATCHING_SIGNATURE : 1;
}

/** The one line printed for a failure (without the "error: " prefix). */
export function errorLine(e: unknown): string {
  let msg: string;
  if (e instanceof SignetError) msg = e.message;
  else if (e instanceof SyntaxError) msg = `the input is not valid JSON (${jsonProblem(e)})`;
  else if ((e as NodeJS.ErrnoException)?.code !== undefined) {
    const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
    const subject =
      err.path ??
      (err.address !== undefined && err.port !== undefined
        ? `${err.address} (port ${err.port})`
        : err.port !== undefined
          ? `port ${err.port}`
          : (err.address ?? 'the resource'));
    msg = describeSystemError(e, subject);
  } else msg = e instanceof Error ? e.message : String(e);
  // One line, always: a multi-line message (a server's answer, a nested cause) is folded, and
  // what is left that a terminal would act on is escaped (SignetError messages already are).
  return printable(msg.replace(/\s*\r?\n\s*/g, ' ').trim());
}

export function reportError(e: unknown): void {
  if (process.env.SIGNET_DEBUG) console.error(e);
  console.error(`error: ${errorLine(e)}`);
}

/** One input of several (a file, an image) failed: `error: NAME: reason`, the others go on. */
export function reportErrorOf(name: string, e: unknown): void {
  if (process.env.SIGNET_DEBUG) console.error(e);
  const line = errorLine(e);
  // Most errors about an input already begin with its name.
  console.error(`error: ${line.startsWith(`${name}: `) ? line : `${name}: ${line}`}`);
}

/**
 * After a run over several inputs: when any failed, a line saying how many (`what` completes
 * "N of M ...") and the first failure's exit code, so a script learns what went wrong as it
 * would for one input.
 */
export function finishEach(failures: readonly unknown[], total: number, what: string): void {
  if (failures.length === 0) return;
  console.error(`error: ${failures.length} of ${total} ${what}`);
  process.exitCode = exitCodeFor(failures[0]);
}

/**
 * A reader that has seen enough (`signet download signature IMAGE | head`) closes the pipe, and
 * the next write to stdout fails with EPIPE: the command then ends quietly with the exit code it
 * has so far, as cosign does (a Go program dies of SIGPIPE), instead of Node's stack trace.
 * Installed by main's entry; `signet up` replaces it, since a server outlives its banner's reader.
 */
export function exitOnClosedStdout(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EPIPE') throw e;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
}

/**
 * A closed stderr (`signet sign-blob ... 2>&1 | head -1`) must not end a command half-way: a
 * signature in the public log and its bundle never written. Nothing can be said there any more,
 * so the command goes on and its exit code still tells how it ended. Installed by the entries.
 */
export function ignoreClosedStderr(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EPIPE') throw e;
}
