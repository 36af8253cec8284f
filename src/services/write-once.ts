import fs from 'node:fs';

/**
 * Writes a file that must never change once written (a CA or TSA certificate beside its key):
 * mode 0600, written under a temporary name and hard-linked into place, so a crash never leaves
 * half a file and, when two processes race, the first one's file stays and the second's is dropped.
 * The caller reads the file back to learn which one won.
 */
export function writeOnce(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
