import type { ErrorCode } from './error-codes.ts';
import { printable } from './encoding/printable.ts';
/**
 * One error type for the whole project. `code` is a stable machine-readable reason,
 * `field` the path of the offending input (e.g. `spec.signature.content`), and the message
 * is written for a person: it says what was wrong and why.
 */
export type ErrorKind =
  | 'invalid-input' // untrusted input that does not parse or is not allowed (HTTP 400)
  | 'unauthorized' // identity token problems (HTTP 401 or 400 in Fulcio's API)
  | 'forbidden' // a genuine identity this service does not serve (HTTP 403)
  | 'not-found' // (HTTP 404)
  | 'conflict' // duplicate entry and similar (HTTP 409)
  | 'too-large' // (HTTP 413)
  | 'unsupported' // a known but unsupported kind, algorithm or version (HTTP 400/415)
  | 'verification' // a signature, proof, chain or policy check failed
  | 'unavailable' // a dependency is down or the server pushes back (HTTP 503)
  | 'internal';

export type { ErrorCode } from './error-codes.ts';

export class SignetError extends Error {
  readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    kind: ErrorKind,
    code: ErrorCode,
    message: string,
    opts: { field?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(printable(opts.field ? `${opts.field}: ${message}` : message), { cause: opts.cause });
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
export function verificationFailed(code: ErrorCode, message: string, cause?: unknown): SignetError {
  return new SignetError('verification', code, message, { cause });
}

/**
 * The message of `e` without the field it names, to quote under another lead for the same
 * input ("key.data: is not a public key: contains no PEM block", not the field twice).
 */
export function reasonOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return e instanceof SignetError && e.field && m.startsWith(`${e.field}: `)
    ? m.slice(e.field.length + 2)
    : m;
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;

/**
 * What went wrong with a file, a port or a URL, as a sentence a person can act on: Node's
 * errno codes (ENOENT, EISDIR, EACCES, EADDRINUSE, ECONNREFUSED, ...) never reach the user
 * bare. `subject` is what the operation was about ("/tmp/x.json", "port 8420", "http://...").
 */
export function describeSystemError(e: unknown, subject: string): string {
  // A key or certificate pasted where its file's path goes (`--key "$(cat key.pem)"`): it is
  // not repeated back, since a private key must never be printed.
  if (PEM_BLOCK.test(subject))
    return "PEM text was given where a file's path goes (it is not printed): give the path of the file that holds it";
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err?.code ?? err?.cause?.code;
  switch (code) {
    case 'ENOENT':
      return `${subject} does not exist; check the path`;
    case 'EISDIR':
      return `${subject} is a folder, not a file; give the file inside it`;
    case 'ENOTDIR':
      return `a part of ${subject} is a file, not a folder; check the path`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied for ${subject}; check its owner and mode`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files while opening ${subject}; raise the limit (ulimit -n)`;
    case 'ENOSPC':
      return `no space left on the device holding ${subject}`;
    case 'EROFS':
      return `${subject} is on a read-only file system`;
    case 'EEXIST':
      return `${subject} already exists`;
    case 'EADDRINUSE':
      return `${subject} is already in use by another process; stop it or choose another port`;
    case 'EADDRNOTAVAIL':
      return `${subject} is not an address of this machine; choose another host`;
    case 'ECONNREFUSED':
      return `nothing is listening at ${subject}; is the server running there?`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      // What a service that does not speak HTTP does (Redis, SSH on the port given): trying
      // again alone would not help there.
      return `the connection to ${subject} was closed before it answered: check that the URL's port is the service's (one that does not speak HTTP closes it so), or try again`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host of ${subject} cannot be found (DNS); check the URL or the network`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `${subject} did not answer in time; check the URL or the network`;
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return `the network to ${subject} is unreachable; check the network`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG': {
      // OpenSSL's text (`write EPROTO 40...:error:0A00010B:SSL routines:...`) never reaches a
      // user bare. A first answer that is not a TLS record is what a plain-HTTP server sends.
      const text = (err?.code !== undefined ? err : err?.cause)?.message ?? '';
      if (code !== 'EPROTO' || /wrong version number|packet length too long/.test(text))
        return `${subject} does not speak TLS (perhaps its URL is http://, not https://)`;
      const reason = /SSL routines:[^:]*:([^:]+)/.exec(text)?.[1];
      return `the TLS handshake with ${subject} failed${reason ? ` (${reason})` : ''}`;
    }
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the TLS certificate of ${subject} is not trusted (${code})`;
  }
  if (e instanceof SyntaxError) return `${subject} is not valid JSON (${jsonProblem(e)})`;
  const message = err?.message ?? String(e);
  return `${subject}: ${message}`;
}

/**
 * Why `file` could not be written, for an output flag: a missing folder is named as such
 * ("cannot write /x/o.txt: folder /x does not exist"), not as the file being missing, which is
 * what describeSystemError says of a file read.
 */
export function describeWriteError(e: unknown, file: string): string {
  const err = e as NodeJS.ErrnoException | undefined;
  // never repeated back (describeSystemError says why)
  if (PEM_BLOCK.test(file)) return describeSystemError(e, file);
  if (err?.code === 'ENOENT') return missingFolder(file);
  if (err?.code === 'EISDIR') return `cannot write ${file}: it is a folder; give a file name`;
  return `cannot write ${file}: ${describeSystemError(e, file)}`;
}

/**
 * Why `file` cannot be written when its folder does not exist; a URL where a file name goes
 * (`--bundle https://...`) is said to be one, not taken for a folder named `https:`.
 */
export function missingFolder(file: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file))
    return `${file} is a URL, and this is a file path, never a URL: give the file to write`;
  const path = process.getBuiltinModule('node:path');
  return `cannot write ${file}: folder ${path.dirname(path.resolve(file))} does not exist`;
}

/** V8's JSON.parse message without its quoting of the input, e.g. "unexpected token at position 12". */
export function jsonProblem(e: SyntaxError): string {
  const m = /position (\d+)/.exec(e.message);
  if (/Unexpected end of JSON input/.test(e.message)) return 'it ends too early';
  if (/Unexpected non-whitespace character after JSON/.test(e.message))
    return `unexpected text after the JSON value${m ? ` at position ${m[1]}` : ''}`;
  const token = /Unexpected token '(.+?)', /.exec(e.message);
  if (token) return `unexpected "${token[1]}"${m ? ` at position ${m[1]}` : ''}`;
  if (
    /Unexpected token|Expected|Bad control character|Bad escaped|Bad Unicode|Unterminated/.test(
      e.message,
    )
  )
    return `a syntax error${m ? ` at position ${m[1]}` : ''}`;
  return 'a syntax error';
}

/**
 * An untrusted value as an error message may quote it: strings cut to `max` characters and
 * JSON-quoted, scalars as they are, arrays and objects by their kind only. Never recursive
 * (JSON.stringify or String() of a value nested thousands of levels deep overflows the stack)
 * and never long (a 1 MB field must not come back as a 1 MB error).
 */
export function quoteInput(v: unknown, max = 100): string {
  if (typeof v === 'string') return JSON.stringify(v.length > max ? `${v.slice(0, max)}...` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || v === undefined)
    return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
