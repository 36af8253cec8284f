/**
 * One bench module in a process of its own (run.ts says why), with a temporary folder of its
 * own as TMPDIR: what the module, the test helpers it uses and the processes it starts (stacks,
 * registries, git, the CLI) put under os.tmpdir() is removed when it ends, however it ends (a
 * finished run, a bench that throws, kill -9, Ctrl-C), so a run leaves nothing behind. The
 * monitor bench's cache of filled logs is meant to outlive runs: it stays in the real temporary
 * folder (SIGNET_BENCH_CACHE, unless given).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TargetRow } from '../table.ts';

const entry = path.join(import.meta.dirname, 'run-one.ts');

/** Runs the bench module `file` (a path) in a child process; the rows it returned. */
export async function runIsolated(file: string): Promise<TargetRow[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-'));
  const tmp = path.join(scratch, 'tmp');
  const out = path.join(scratch, 'rows.json');
  fs.mkdirSync(tmp);
  const child = spawn(process.execPath, [...process.execArgv, entry, file, out], {
    stdio: 'inherit',
    env: {
      ...process.env,
      TMPDIR: tmp,
      SIGNET_BENCH_CACHE:
        process.env.SIGNET_BENCH_CACHE ?? path.join(os.tmpdir(), 'signet-bench-cache'),
    },
  });
  // A signal that stops the run stops the module first, then its folder goes, then this process.
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    child.kill(signal);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    if (code !== 0)
      throw new Error(
        `bench ${path.basename(file)} ${signal ? `died of ${signal}` : `exited with ${code}`}`,
      );
    return JSON.parse(fs.readFileSync(out, 'utf8')) as TargetRow[];
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    // Retried: a process the module started may still be writing there as it goes.
    fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 5 });
    if (stoppedBy) process.kill(process.pid, stoppedBy);
  }
}
