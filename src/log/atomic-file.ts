// Builtins by getBuiltinModule, not ES imports: the signer's TUF client writes through here,
// and an ES import of node:crypto or node:fs loads webcrypto and fs/promises (startup.test.ts).
const { randomBytes } = process.getBuiltinModule('node:crypto');
const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

/**
 * Writes `data` to a new temporary file beside `file` and returns its path: created
 * exclusively (O_CREAT|O_EXCL, which also refuses a symbolic link) with `mode` and a random
 * name, then fsynced. In a folder others can write to, a name planted in advance (a file of
 * theirs, mode 0666, or a link) would otherwise be written through and renamed into place, so
 * that they own the private key it then holds; a random name cannot be planted, and one that
 * exists anyway fails rather than being reused.
 */
export function writeTempBeside(file: string, data: string | Uint8Array, mode = 0o600): string {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`,
  );
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  return tmp;
}

/**
 * Replaces a file atomically and durably (the witness's cosigned checkpoints, the monitor's
 * position, a private key): written to a temporary file of its own (writeTempBeside), renamed
 * over the old file, and the directory fsynced, so after a crash (even kill -9 or power loss)
 * the file is either the old or the new content, never a mix or empty, and always this
 * process's own new file with `mode`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = path.dirname(file);
  const tmp = writeTempBeside(file, data, mode);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const d = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(d);
    } finally {
      fs.closeSync(d);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}
