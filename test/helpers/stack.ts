import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type RunningStack } from '../../src/services/stack.ts';

/** A whole stack on a loopback port with a temporary data folder, quiet logs. */
export async function tempStack(
  opts: { databaseUrl?: string; dataDir?: string } = {},
): Promise<RunningStack & { dataDir: string }> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'signet-test-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: opts.databaseUrl,
    log: quiet,
  });
  return { ...stack, dataDir };
}
