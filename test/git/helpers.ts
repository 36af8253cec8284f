import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

export const SIGNET = path.resolve('bin/signet');
export const PROGRAM = path.resolve('bin/signet-gitsign');

/**
 * An isolated git world: its own HOME (global config), no system config, its own runtime
 * folder for the credential cache's socket and its own TUF cache, so tests never touch the
 * user's git or agent.
 */
export function gitWorld(extraEnv: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-git-'));
  const home = path.join(dir, 'home');
  const runDir = path.join(dir, 'run');
  fs.mkdirSync(home);
  fs.mkdirSync(runDir, { mode: 0o700 });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_RUNTIME_DIR: runDir,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@signet.local',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@signet.local',
    SIGNET_SIGN_IN: 'never',
    // git (< 2.41) swallows the program's stderr when signing fails: the program logs here too
    SIGNET_GIT_LOG: path.join(dir, 'signet-git.log'),
    // one compile cache for every run (the bin scripts default to one under XDG_CACHE_HOME)
    NODE_COMPILE_CACHE: path.join(os.tmpdir(), 'signet-test-compile-cache'),
    ...extraEnv,
  };
  const socket = path.join(runDir, `signet-${process.getuid?.() ?? 'user'}`, 'agent.sock');
  return {
    dir,
    env,
    log: path.join(dir, 'signet-git.log'),
    socket,
    /** A new repository with one file, not yet committed. */
    repo(name = 'repo'): string {
      const r = path.join(dir, name);
      fs.mkdirSync(r);
      const init = spawnSync('git', ['init', '-q', '-b', 'main', r], { env });
      if (init.status !== 0) throw new Error(init.stderr.toString());
      return r;
    },
    git(repo: string, args: string[], more: Record<string, string> = {}, input?: string | Buffer) {
      return run('git', args, repo, { ...env, ...more }, input);
    },
    signet(repo: string, args: string[], more: Record<string, string> = {}) {
      return run(SIGNET, args, repo, { ...env, ...more });
    },
  };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  out: Buffer;
}

/**
 * Runs a command without blocking the event loop: the stack under test runs in this process
 * and must keep answering while git and signet talk to it.
 */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  input?: string | Buffer,
  timeoutMs = 120_000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(t);
      const o = Buffer.concat(out);
      resolve({ status, stdout: o.toString(), stderr: Buffer.concat(err).toString(), out: o });
    });
    child.stdin.end(input);
  });
}

export async function must(p: Promise<RunResult> | RunResult): Promise<RunResult> {
  const r = await p;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return r;
}

/**
 * Sets `repo` up the gitsign way only (gitsign's README): gpg.format, gpg.x509.program and
 * gitsign.fulcio, rekor and timestampServerURL naming the stack's services, no signet.*.
 */
export async function configureGitsignOnly(
  world: ReturnType<typeof gitWorld>,
  repo: string,
  stackUrl: string,
): Promise<void> {
  for (const [k, v] of [
    ['gpg.format', 'x509'],
    ['gpg.x509.program', PROGRAM],
    ['gitsign.fulcio', `${stackUrl}/fulcio`],
    ['gitsign.rekor', `${stackUrl}/rekor`],
    ['gitsign.timestampServerURL', `${stackUrl}/tsa/api/v1/timestamp`],
  ])
    await must(world.git(repo, ['config', k!, v!]));
}
