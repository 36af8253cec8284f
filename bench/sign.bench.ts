/**
 * Wall time of a whole `signet sign-blob` process against a local stack (target: <= 3x a bare
 * Node start in the same run):
 * process start, module loading, signing config, CA certificate, log entry, timestamp,
 * bundle written. Also the floor under it: a bare Node start and `signet --help`; a
 * verifier's run, `signet verify-blob` with its TUF refresh and with a trusted-root file; and a
 * release of 20 files signed in one run and verified in one run.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../src/services/stack.ts';
import { stackToken } from '../test/helpers/stack.ts';
import type { TargetRow } from './table.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const bin = path.join(here, '..', 'bin', 'signet');
const node = path.join(here, '..', 'node_modules', '.bin', 'node');
const RUNS = Number(process.env.SIGN_BENCH_RUNS ?? 9);
/** Files in the many-files runs (a release's artifacts). */
const RELEASE = 20;

/** Wall time of one process (async: the stack runs in this process and must keep serving). */
function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${args.join(' ')} failed: ${stderr}`));
      else resolve(ms);
    });
  });
}

async function repeat(n: number, f: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await f(i));
  return out;
}

/** Prints the median and p90; returns the median. */
function stats(label: string, samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  console.log(
    `${label.padEnd(44)} median ${q(0.5).toFixed(0).padStart(5)} ms   p90 ${q(0.9).toFixed(0).padStart(5)} ms   (n=${s.length})`,
  );
  return q(0.5);
}

function token(url: string): Promise<string> {
  return stackToken(url);
}

export async function run(): Promise<TargetRow[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-sign-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const stack = await startStack({ port: 0, host: '127.0.0.1', dataDir, log: quiet });
  try {
    const services = (
      (await (await fetch(`${stack.url}/healthz`)).json()) as { services: string[] }
    ).services;
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-work-'));
    fs.writeFileSync(path.join(cwd, 'a.txt'), 'benchmark artifact\n');
    const env = {
      ...process.env,
      SIGNET_SERVER: '',
      COSIGN_PASSWORD: 'bench',
      SIGNET_TUF_CACHE: path.join(cwd, 'tuf-cache'),
    };

    stats(
      'signet --help (start + CLI modules)',
      await repeat(RUNS, () => time(bin, ['--help'], env, cwd)),
    );

    // A bare start and the keyless signs take turns, so both see the same moments of a shared
    // machine (its speed drifts: see support/cpu-meter.ts).
    const keylessOn = services.includes('ca') && services.includes('rekor');
    const bareSamples: number[] = [];
    const signSamples = new Map<string, number[]>([
      ['1', []],
      ['2', []],
    ]);
    for (let i = 0; i <= RUNS; i++) {
      const ms = await time(node, ['-e', '0'], env, cwd);
      if (i > 0) bareSamples.push(ms);
      if (!keylessOn) continue;
      // bin/signet keeps Node's compile cache (the stripped and compiled TypeScript) between
      // runs, and the TUF cache is used without a round trip for minutes after a refresh: the
      // first run fills both, the figures are of the runs after it, as in a CI job.
      for (const [v, samples] of signSamples) {
        const t = await token(stack.url); // outside the timed process, as a CI token would be
        const ms = await time(
          bin,
          [
            'sign-blob',
            '--server',
            stack.url,
            '--rekor-version',
            v,
            '--identity-token',
            t,
            '--bundle',
            `b${v}-${i}.json`,
            'a.txt',
          ],
          env,
          cwd,
        );
        if (i > 0) samples.push(ms);
      }
    }
    const bare = stats('node -e 0 (bare start)', bareSamples);
    const keyless: number[] = [];
    if (keylessOn)
      for (const [v, samples] of signSamples)
        keyless.push(stats(`signet sign-blob keyless, Rekor v${v} + TSA`, samples));
    else
      console.log(
        `(the stack has ${services.join(', ')}: no CA/log yet, so keyless signing is not measured)`,
      );
    if (services.includes('tsa')) {
      // Keyed with a plain PKCS#8 key: the same path minus the CA, and without the scrypt KDF
      // an encrypted cosign.key costs on purpose (2^16, ~100-200 ms).
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      fs.writeFileSync(
        path.join(cwd, 'plain.pem'),
        privateKey.export({ format: 'pem', type: 'pkcs8' }),
      );
      await time(bin, ['generate-key-pair'], env, cwd);
      const logs = services.includes('rekor') ? ['1', '2'] : [];
      for (const v of logs)
        stats(
          `signet sign-blob --key plain.pem, Rekor v${v} + TSA`,
          await repeat(RUNS, (i) =>
            time(
              bin,
              [
                'sign-blob',
                '--key',
                'plain.pem',
                '--server',
                stack.url,
                '--rekor-version',
                v,
                '--bundle',
                `p${v}-${i}.json`,
                'a.txt',
              ],
              env,
              cwd,
            ),
          ),
        );
      stats(
        'signet sign-blob --key cosign.key (scrypt), TSA only',
        await repeat(RUNS, (i) =>
          time(
            bin,
            [
              'sign-blob',
              '--key',
              'cosign.key',
              '--server',
              stack.url,
              '--tlog-upload=false',
              '--bundle',
              `k${i}.json`,
              'a.txt',
            ],
            env,
            cwd,
          ),
        ),
      );
    }
    if (keylessOn) {
      // A verifier run, which refreshes its TUF trust every time (client/tuf), and the same
      // verification with the trusted root from a file; both taking turns with a bare start.
      fs.writeFileSync(
        path.join(cwd, 'trusted_root.json'),
        await (await fetch(`${stack.url}/trusted_root.json`)).text(),
      );
      const policy = [
        '--bundle',
        'b1-1.json',
        '--certificate-identity',
        'dev@signet.local',
        '--certificate-oidc-issuer',
        `${stack.url}/oidc`,
        'a.txt',
      ];
      const runs = { bare: [] as number[], tuf: [] as number[], file: [] as number[] };
      for (let i = 0; i <= RUNS; i++) {
        const bareMs = await time(node, ['-e', '0'], env, cwd);
        const tufMs = await time(bin, ['verify-blob', '--server', stack.url, ...policy], env, cwd);
        const fileMs = await time(
          bin,
          ['verify-blob', '--trusted-root', 'trusted_root.json', ...policy],
          env,
          cwd,
        );
        if (i === 0) continue; // fills the compile cache
        runs.bare.push(bareMs);
        runs.tuf.push(tufMs);
        runs.file.push(fileMs);
      }
      stats('node -e 0 (bare start, with the verifies)', runs.bare);
      stats('signet verify-blob --server (TUF refresh)', runs.tuf);
      const oneVerify = stats('signet verify-blob --trusted-root FILE', runs.file);

      // A release: RELEASE files signed in one run (one token, one certificate, their log and
      // timestamp requests overlapping) and verified in one run, per file against one per run.
      const files = Array.from({ length: RELEASE }, (_, i) => `release-${i}.txt`);
      for (const f of files) fs.writeFileSync(path.join(cwd, f), `release file ${f}\n`);
      const many = { sign: [] as number[], verify: [] as number[] };
      for (let i = 0; i <= Math.ceil(RUNS / 2); i++) {
        const t = await token(stack.url);
        const signMs = await time(
          bin,
          ['sign-blob', '--server', stack.url, '--identity-token', t, ...files],
          env,
          cwd,
        );
        const verifyMs = await time(
          bin,
          ['verify-blob', '--trusted-root', 'trusted_root.json', ...policy.slice(2, 6), ...files],
          env,
          cwd,
        );
        if (i === 0) continue;
        many.sign.push(signMs);
        many.verify.push(verifyMs);
      }
      const signMany = stats(`signet sign-blob keyless, ${RELEASE} files in one run`, many.sign);
      const verifyMany = stats(`signet verify-blob, ${RELEASE} files in one run`, many.verify);
      const oneSign = keyless[0]!;
      console.log(
        `  per file: signing ${(signMany / RELEASE).toFixed(1)} ms (one file a run: ${oneSign.toFixed(0)} ms, ${(oneSign / (signMany / RELEASE)).toFixed(0)}x), ` +
          `verifying ${(verifyMany / RELEASE).toFixed(1)} ms (one file a run: ${oneVerify.toFixed(0)} ms, ${(oneVerify / (verifyMany / RELEASE)).toFixed(0)}x)`,
      );
    }
    if (keyless.length === 0) return [];
    const worst = Math.max(...keyless);
    return [
      {
        target: 'sign-blob keyless <= 3x bare node start',
        measured: `median ${worst.toFixed(0)} ms (worse of Rekor v1/v2) vs ${bare.toFixed(0)} ms`,
        ratio: `${(worst / bare).toFixed(1)}x`,
        met: worst <= 3 * bare,
      },
    ];
  } finally {
    await stack.close();
  }
}

if (import.meta.main) await run();
