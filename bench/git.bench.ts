/**
 * Git signing against a local stack, with Debian's git:
 *  - a 100-commit `git rebase --force-rebase` re-signed through the credential cache (after
 *    one sign-in): whole rebase wall time (target < 10 s) and commits signed per second;
 *  - `signet verify-commit --range` over those 100 commits: the whole command (process start,
 *    trust, git, verification), and the rate it sustains once started (target >= 500/s),
 *    measured by the library call the command makes, over the range several times.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../src/services/stack.ts';
import { stackToken } from '../test/helpers/stack.ts';
import { agentRequest, agentSocketPath } from '../src/client/git/agent.ts';
import { verifyCommitRange } from '../src/client/git/commits.ts';
import { parseTrustedRoot } from '../src/bundle/trusted-root.ts';
import type { TargetRow } from './table.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const signet = path.join(here, '..', 'bin', 'signet');
const N = Number(process.env.GIT_BENCH_COMMITS ?? 100);

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${err}`)),
    );
  });
}

export async function run(): Promise<TargetRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-git-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir: path.join(dir, 'data'),
    log: quiet,
  });
  const runDir = path.join(dir, 'run');
  fs.mkdirSync(runDir, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    XDG_RUNTIME_DIR: runDir,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@signet.local',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@signet.local',
    SIGNET_SIGN_IN: 'never',
    NODE_COMPILE_CACHE: path.join(os.tmpdir(), 'signet-bench-compile-cache'),
  };
  fs.mkdirSync(env.HOME!);
  const repo = path.join(dir, 'repo');
  const socket = agentSocketPath(env);
  try {
    await sh('git', ['init', '-q', '-b', 'main', repo], dir, env);
    await sh(signet, ['git', 'setup', '--server', stack.url], repo, env);
    const token = await stackToken(stack.url);
    // One sign-in: the first commit fills the credential cache.
    await sh('git', ['commit', '-q', '--allow-empty', '-m', 'base'], repo, {
      ...env,
      SIGSTORE_ID_TOKEN: token,
    });
    for (let i = 0; i < N; i++)
      await sh('git', ['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', `c${i}`], repo, env);
    // The floor under it, in the same run: the same rebase without signing, and bare Node starts.
    const tb = performance.now();
    await sh(
      'git',
      ['-c', 'commit.gpgsign=false', 'rebase', '-q', '--force-rebase', `HEAD~${N}`],
      repo,
      env,
    );
    const plainMs = performance.now() - tb;
    const tn = performance.now();
    for (let i = 0; i < 10; i++) await sh(process.execPath, ['-e', '0'], dir, env);
    const nodeMs = (performance.now() - tn) / 10;
    console.log(
      `same rebase unsigned ${(plainMs / 1000).toFixed(2)} s; a bare node start ${nodeMs.toFixed(0)} ms`,
    );
    const t0 = performance.now();
    await sh('git', ['rebase', '-q', '--force-rebase', `HEAD~${N}`], repo, env);
    const rebaseMs = performance.now() - t0;
    console.log(
      `rebase of ${N} commits, re-signed through the cache   ${(rebaseMs / 1000).toFixed(2)} s   ${((N * 1000) / rebaseMs).toFixed(1)} commits/s`,
    );

    const range = `HEAD~${N}..HEAD`;
    const flags = [
      '--certificate-identity',
      'dev@signet.local',
      '--certificate-oidc-issuer',
      `${stack.url}/oidc`,
      '--offline',
    ];
    const t1 = performance.now();
    const out = await sh(signet, ['verify-commit', '--range', range, ...flags], repo, env);
    const cliMs = performance.now() - t1;
    const ok = out.split('\n').filter((l) => / OK /.test(l)).length;
    if (ok !== N) throw new Error(`verify-commit --range verified ${ok} of ${N}`);
    console.log(
      `verify-commit --range, ${N} commits, whole command   ${cliMs.toFixed(0)} ms   ${((N * 1000) / cliMs).toFixed(0)} commits/s`,
    );
    const trustedRoot = parseTrustedRoot(
      await (await fetch(`${stack.url}/trusted_root.json`)).json(),
    );
    const trust = {
      trustedRoot,
      policy: {
        kind: 'identity' as const,
        identity: {
          subjectAlternativeName: { exact: 'dev@signet.local' },
          issuer: { exact: `${stack.url}/oidc` },
        },
      },
    };
    for await (const r of verifyCommitRange(repo, range, trust)) if (!r.ok) throw r.error; // warm
    const ROUNDS = 5;
    const t2 = performance.now();
    for (let i = 0; i < ROUNDS; i++)
      for await (const r of verifyCommitRange(repo, range, trust)) if (!r.ok) throw r.error;
    const steadyMs = performance.now() - t2;
    const rate = (ROUNDS * N * 1000) / steadyMs;
    console.log(
      `verify-commit --range once started (${ROUNDS}x${N})     ${steadyMs.toFixed(0)} ms   ${rate.toFixed(0)} commits/s`,
    );
    return [
      {
        target: `${N}-commit rebase with the credential cache < 10 s`,
        measured: `${(rebaseMs / 1000).toFixed(2)} s (${((N * 1000) / rebaseMs).toFixed(1)} commits/s; unsigned ${(plainMs / 1000).toFixed(2)} s, node start ${nodeMs.toFixed(0)} ms)`,
        ratio: `${(10_000 / rebaseMs).toFixed(2)}x`,
        met: rebaseMs < 10_000,
      },
      {
        target: 'verify-commit --range >= 500 commits/s',
        measured: `${rate.toFixed(0)} commits/s once started; whole command ${((N * 1000) / cliMs).toFixed(0)}/s for ${N}`,
        ratio: `${(rate / 500).toFixed(2)}x`,
        met: rate >= 500,
      },
    ];
  } finally {
    await agentRequest(socket, { op: 'stop' }, 2000);
    await stack.close();
  }
}
