/**
 * A bench's server in its own OS process, as `signet up` runs: this bench file again with
 * `args`, under this process's Node flags (bin/node-options, which `npm run bench` uses) and
 * SIGNET_BENCH_CHILD_ARGS (e.g. "--cpu-prof" or "--trace-gc", to look inside the server). An IPC
 * channel carries the parent's CPU-time questions.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export function spawnServer(
  file: string,
  args: string[],
  stdout: 'pipe' | 'inherit' = 'pipe',
): ChildProcess {
  const extra = process.env['SIGNET_BENCH_CHILD_ARGS']?.split(' ').filter(Boolean) ?? [];
  return spawn(process.execPath, [...process.execArgv, ...extra, file, ...args], {
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
  });
}
