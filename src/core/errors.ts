/**
 * One error type for the whole project. `code` is a stable machine-readable reason,
 * `field` the path of the offending input (e.g. `spec.signature.content`), and the message
 * is written for a person: it says what was wrong and why.
 */
export type ErrorKind =
  | 'invalid-input' // untrusted input that does not parse or is not allowed (HTTP 400)
  | 'unauthorized' // identity token problems (HTTP 401 or 400 in Fulcio's API)
  | 'not-found' // (HTTP 404)
  | 'conflict' // duplicate entry and similar (HTTP 409)
  | 'too-large' // (HTTP 413)
  | 'unsupported' // a known but unsupported kind, algorithm or version (HTTP 400/415)
  | 'verification' // a signature, proof, chain or policy check failed
  | 'unavailable' // a dependency is down or the server pushes back (HTTP 503)
  | 'internal';

export class SignetError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    opts: { field?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(opts.field ? `${opts.field}: ${message}` : message, { cause: opts.cause });
    this.name = 'SignetError';
    this.kind = kind;
    this.code = code;
    this.field = opts.field;
    this.details = opts.details;
  }
}

/** Shorthand for the most common case: untrusted input at `field` is wrong. */
export function invalid(field: string, message: string, cause?: unknown): SignetError {
  return new SignetError('invalid-input', 'INVALID_INPUT', message, { field, cause });
}

/** A failed verification check; `code` names the check (e.g. `TLOG_INCLUSION_PROOF`). */
export function verificationFailed(code: string, message: string, cause?: unknown): SignetError {
  return new SignetError('verification', code, message, { cause });
}
