import fs from 'node:fs';
import { writeTempBeside } from '../log/atomic-file.ts';

/**
 * Writes a file that must never change once written (a CA or TSA certificate beside its key):
 * mode 0600, written under a temporary name and hard-linked into place, so a crash never leaves
 * half a file and, when two processes race, the first one's file stays and the second's is dropped.
 * The caller reads the file back to learn which one won. The temporary file is created
 * exclusively under a random name (writeTempBeside): a service's private keys are written here.
 */
export function writeOnce(file: string, data: string | Uint8Array): void {
  const tmp = writeTempBeside(file, data, 0o600);
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
