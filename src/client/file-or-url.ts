/**
 * The inputs a flag names, read as cosign reads them (cosign pkg/blob/load.go LoadFileOrURL,
 * behind --key, --certificate, --certificate-chain, --signature, --rfc3161-timestamp, --payload,
 * verify-blob's artifact and initialize --root): an `http://` or `https://` URL is fetched with
 * a GET, `env://VAR` is the value of the environment variable VAR, anything else is a file.
 * Every error is one line naming the flag. The value of an environment variable is never
 * printed (it may be a private key), nor a password written into a URL.
 */
import type { ErrorCode } from '../core/errors.ts';
import { describeSystemError, invalid, SignetError } from '../core/errors.ts';
import type { HttpOptions } from '../services/http/outbound.ts';
const fs = process.getBuiltinModule('node:fs');

/** Bundles, trusted roots and keys are small; a huge file is a mistake or an attack. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** What a flag's value names: a URL, an environment variable, or (anything else) a file. */
export type Reference =
  { kind: 'url'; url: string } | { kind: 'env'; name: string } | { kind: 'file'; path: string };

export function referenceOf(value: string): Reference {
  if (/^https?:\/\//i.test(value)) return { kind: 'url', url: value };
  const env = /^env:\/\/(.*)$/is.exec(value);
  if (env) return { kind: 'env', name: env[1]! };
  return { kind: 'file', path: value };
}

/** True for a URL or `env://` value: read by loadReference, not from a file of that name. */
export function isReference(value: string): boolean {
  return referenceOf(value).kind !== 'file';
}

/**
 * For an input cosign reads from a file only: a URL or `env://` value (that is no file's name)
 * is refused with the reason, not looked for as a file or taken as text.
 */
export function refuseReference(value: string, label: string, what: string): void {
  if (!isReference(value) || fs.existsSync(value)) return;
  throw invalid(
    label,
    `${displayName(value)}: ${what} is read from a file here, not from a URL or env:// (as in cosign); save it to a file first`,
  );
}

/** The value as messages show it: a URL without the password it may carry. */
export function displayName(value: string): string {
  if (referenceOf(value).kind !== 'url') return value;
  try {
    const u = new URL(value);
    if (u.username === '' && u.password === '') return value;
    u.username = '***';
    u.password = '';
    return u.href;
  } catch {
    return value;
  }
}

export interface LoadOptions {
  /** The command's HTTP settings (its --timeout); a URL is fetched by the one HTTP client. */
  http?: HttpOptions;
  /** Largest content read from a URL or variable (default 16 MiB); more is refused. */
  maxBytes?: number;
  /** Where `env://` looks (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The error code of a file that does not exist, or a URL that answers 404 or 410. */
  missing?: ErrorCode;
  /**
   * How a file is read (default: readDocumentBytes): a command that read the flag's file before
   * URLs were taken keeps its reader, and so its errors.
   */
  readFile?: (path: string) => Uint8Array;
}

/** A flag's file, URL or variable, as bytes; errors name `label`. */
export async function loadFileOrUrl(
  value: string,
  label: string,
  o: LoadOptions = {},
): Promise<Uint8Array> {
  const ref = referenceOf(value);
  if (ref.kind === 'file')
    return o.readFile ? o.readFile(ref.path) : readDocumentBytes(ref.path, label, o.missing);
  return loadReference(ref, label, o);
}

/** loadFileOrUrl's text (UTF-8). */
export async function loadTextFileOrUrl(
  value: string,
  label: string,
  o: LoadOptions = {},
): Promise<string> {
  return Buffer.from(await loadFileOrUrl(value, label, o)).toString('utf8');
}

/** A URL or an `env://` variable (for callers that read files their own way). */
export async function loadReference(
  ref: Exclude<Reference, { kind: 'file' }>,
  label: string,
  o: LoadOptions = {},
): Promise<Uint8Array> {
  const max = o.maxBytes ?? MAX_DOCUMENT_BYTES;
  if (ref.kind === 'env') {
    if (ref.name === '') throw invalid(label, 'env:// names no environment variable (env://NAME)');
    const value = (o.env ?? process.env)[ref.name];
    // Only the name: the value may be a private key.
    if (value === undefined)
      throw invalid(
        label,
        `env://${ref.name} names the environment variable ${ref.name}, which is not set`,
      );
    if (value === '') throw invalid(label, `the environment variable ${ref.name} is empty`);
    const bytes = new Uint8Array(Buffer.from(value, 'utf8'));
    if (bytes.length > max)
      throw invalid(label, `the environment variable ${ref.name} holds more than ${max} bytes`);
    return bytes;
  }
  const { send, httpUrl } = await import('../services/http/outbound.ts');
  const shown = displayName(ref.url);
  httpUrl(ref.url, label);
  try {
    const res = await send(
      { service: 'the server', method: 'GET', url: ref.url, maxBytes: max },
      o.http,
    );
    return res.body;
  } catch (e) {
    if (!(e instanceof SignetError)) throw e;
    const status = e.details?.status;
    const gone = status === 404 || status === 410;
    const code = gone ? (o.missing ?? 'INVALID_INPUT') : e.code;
    // An error status, as cosign says it: the page a server sends with it is no key or file.
    const message =
      e.code === 'SERVICE_ERROR' && typeof status === 'number'
        ? `${shown} answered HTTP ${status}`
        : e.message.split(ref.url).join(shown);
    throw new SignetError(
      gone ? (code === 'INVALID_INPUT' ? 'invalid-input' : 'not-found') : e.kind,
      code,
      message,
      { field: label, cause: e, ...(e.details ? { details: e.details } : {}) },
    );
  }
}

/**
 * A small document named by a flag or argument (`label`): at most 16 MiB, errors in one
 * sentence naming the file. `missing` sets the error code for a file that does not exist.
 */
export function readDocument(
  path: string,
  label: string,
  missing: ErrorCode = 'INVALID_INPUT',
): string {
  return Buffer.from(readDocumentBytes(path, label, missing)).toString('utf8');
}

/** readDocument's bytes, for binary documents (an RFC 3161 timestamp's DER). */
export function readDocumentBytes(
  path: string,
  label: string,
  missing: ErrorCode = 'INVALID_INPUT',
): Uint8Array {
  try {
    const fd = fs.openSync(path, 'r');
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() && !st.isDirectory()) return readAtMost(fd, path, label);
      if (st.size > MAX_DOCUMENT_BYTES)
        throw invalid(label, `${path} is ${st.size} bytes; this file is at most 16 MiB`);
      return fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if (e instanceof SignetError) throw e;
    const code: ErrorCode =
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? missing : 'INVALID_INPUT';
    // A flag that takes URLs fetches them before it reads a file: this one does not.
    const ref = referenceOf(path);
    if (code === missing && ref.kind !== 'file')
      throw invalid(
        label,
        `${displayName(path)} is ${ref.kind === 'url' ? 'a URL' : 'an env:// reference'}, and ${label} is a file path, never a URL or env:// (as in cosign): save it to a file first`,
        e,
      );
    throw new SignetError(
      code === 'INVALID_INPUT' ? 'invalid-input' : 'not-found',
      code,
      describeSystemError(e, path),
      { field: label, cause: e },
    );
  }
}

/**
 * A pipe or device (`<(...)`, /dev/stdin, /dev/zero) has no size to check first: it is read up
 * to one byte past the limit and refused there, not read to its end.
 */
function readAtMost(fd: number, path: string, label: string): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    total += n;
    if (total > MAX_DOCUMENT_BYTES)
      throw invalid(label, `${path} holds more than 16 MiB; this file is at most 16 MiB`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}
