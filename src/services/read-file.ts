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

/**
 * What a path that is neither a regular file nor a folder is, for an error that refuses it:
 * `a symbolic link (to TARGET)`, `a FIFO (named pipe)`, a device or a socket. Folders that
 * other people fill (an OCI image layout, a backup) are read without following links or
 * opening special files; both say what they found in these words.
 */
export function specialFileKind(p: string, st: fs.Stats): string {
  if (st.isSymbolicLink()) {
    let target = '';
    try {
      target = ` (to ${fs.readlinkSync(p)})`;
    } catch {
      // the link alone is said
    }
    return `a symbolic link${target}`;
  }
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return st.isDirectory() ? 'a folder' : st.isFile() ? 'a regular file' : 'something else';
}

/**
 * Opens `file` to read only if it is a regular file itself, for folders that other people fill
 * (an OCI image layout, a backup): a symbolic link is not followed (O_NOFOLLOW), a FIFO is not
 * waited on (O_NONBLOCK), and the check is fstat's on the descriptor that is then read, so what
 * is checked is what is read. Undefined when nothing is there; `refused` with what was found
 * when it is not a regular file (specialFileKind says it); other failures are thrown as they
 * are. The caller closes `fd`.
 */
export function openRegularFile(
  file: string,
): { fd: number; stats: fs.Stats } | { refused: fs.Stats } | undefined {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) return { refused: st };
    throw e;
  }
  let stats: fs.Stats;
  try {
    stats = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (!stats.isFile()) {
    fs.closeSync(fd);
    return { refused: stats };
  }
  return { fd, stats };
}
