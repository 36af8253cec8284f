/**
 * Container images: whole-process `signet verify IMAGE` (keyless identity policy, trusted root
 * from a file) against Debian's docker-registry on loopback and a local stack, and images
 * verified per second through the library (client/oci checkImage: resolve, discover, verify),
 * with 1 and with 20 signatures per image, several verifications in flight as an admission
 * webhook would have them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../src/services/stack.ts';
import { parseTrustedRootJSON } from '../src/bundle/trusted-root.ts';
import { serializeBundle } from '../src/bundle/bundle.ts';
import { exact } from '../src/client/verify/policy.ts';
import { setupSigning } from '../src/client/sign/setup.ts';
import { checkImage, parseReference, resolveImage, signResolved } from '../src/client/oci/index.ts';
import { stackToken } from '../test/helpers/stack.ts';
import { pushImage, registryMissing, startRegistry } from '../test/helpers/registry.ts';
import type { TargetRow } from './table.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const bin = path.resolve(here, '../bin/signet');

function runOnce(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; code: number | null; err: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ ms: performance.now() - t0, code, err }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<TargetRow[]> {
  const why = registryMissing();
  if (why) {
    console.log(`skipped: ${why}`);
    return [];
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-image-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const stack = await startStack({ port: 0, host: '127.0.0.1', dataDir, log: quiet });
  const reg = await startRegistry();
  try {
    const rootText = await (await fetch(`${stack.url}/trusted_root.json`)).text();
    const rootFile = path.join(dataDir, 'root.json');
    fs.writeFileSync(rootFile, rootText);
    const identity = 'dev@signet.local';
    const issuer = `${stack.url}/oidc`;
    const one = pushImage(reg, 'bench/one');
    const many = pushImage(reg, 'bench/many');
    const signCtx = async () =>
      setupSigning({
        server: stack.url,
        identityToken: await stackToken(stack.url, identity),
        rekorVersion: 1,
      });
    const [r1, r20] = [await resolveImage(one.ref), await resolveImage(many.ref)];
    const [signed] = await signResolved([r1], await signCtx());
    const bundleFile = path.join(dataDir, 'one.sigstore.json');
    fs.writeFileSync(bundleFile, serializeBundle(signed!.bundle));
    const ctx = await signCtx();
    for (let i = 0; i < 20; i++)
      await signResolved([r20], ctx, { mode: i % 2 ? 'legacy' : 'oci-1-1' });

    // Whole process, as a user or CI runs it.
    const env = { ...process.env, SIGNET_SERVER: '', DOCKER_CONFIG: dataDir };
    const args = [
      'verify',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      issuer,
      '--trusted-root',
      rootFile,
      one.ref,
    ];
    const warm = await runOnce(args, env);
    if (warm.code !== 0) throw new Error(`signet verify failed: ${warm.err}`);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) times.push((await runOnce(args, env)).ms);
    const wholeMs = median(times);
    // The same verification without the registry (the bundle from a file), in the same run.
    const blobArgs = [
      'verify-blob-attestation',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      issuer,
      '--trusted-root',
      rootFile,
      '--bundle',
      bundleFile,
      '--digest',
      r1.digest.text,
    ];
    const blobWarm = await runOnce(blobArgs, env);
    if (blobWarm.code !== 0)
      throw new Error(`signet verify-blob-attestation failed: ${blobWarm.err}`);
    const blobTimes: number[] = [];
    for (let i = 0; i < 15; i++) blobTimes.push((await runOnce(blobArgs, env)).ms);
    const blobMs = median(blobTimes);
    console.log(
      `signet verify IMAGE (whole process, 1 signature): median ${wholeMs.toFixed(0)} ms over ${times.length} runs (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`,
    );
    console.log(
      `same bundle from a file (verify-blob-attestation --digest): median ${blobMs.toFixed(0)} ms; the registry adds ${(wholeMs - blobMs).toFixed(0)} ms`,
    );

    // Library: images verified per second.
    const trustedRoot = parseTrustedRootJSON(rootText, 'root.json');
    const policy = {
      kind: 'identity' as const,
      identity: { subjectAlternativeName: exact(identity), issuer: exact(issuer) },
    };
    const rate = async (
      ref: string,
      want: number,
      inFlight: number,
      ms = 2500,
    ): Promise<number> => {
      const parsed = parseReference(ref);
      const once = async () => {
        const r = await checkImage(parsed, { trustedRoot, policy });
        if (r.verified.length !== want)
          throw new Error(
            `expected ${want} valid signatures, got ${r.verified.length}: ${JSON.stringify(r.rejected[0])}`,
          );
      };
      for (let i = 0; i < 5; i++) await once();
      let n = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (performance.now() - t0 < ms) {
            await once();
            n++;
          }
        }),
      );
      return n / ((performance.now() - t0) / 1000);
    };
    const rate1 = await rate(one.ref, 1, 8);
    const rate1serial = await rate(one.ref, 1, 1, 1500);
    const rate20 = await rate(many.ref, 20, 8);
    console.log(
      `library checkImage, 1 signature:   ${rate1.toFixed(0)} images/s (8 in flight), ${rate1serial.toFixed(0)} images/s (one at a time)`,
    );
    console.log(
      `library checkImage, 20 signatures: ${rate20.toFixed(0)} images/s (8 in flight) = ${(rate20 * 20).toFixed(0)} signatures/s`,
    );
    return [
      {
        target: 'signet verify IMAGE median <= 150 ms',
        measured: `median ${wholeMs.toFixed(0)} ms (same bundle from a file: ${blobMs.toFixed(0)} ms)`,
        ratio: `${((wholeMs / 150) * 100).toFixed(0)} % of budget`,
        met: wholeMs <= 150,
      },
      {
        target: 'images verified/s (1 signature) >= 300',
        measured: `${rate1.toFixed(0)}/s; 20 signatures: ${rate20.toFixed(0)}/s`,
        ratio: `${(rate1 / 300).toFixed(2)}x`,
        met: rate1 >= 300,
      },
    ];
  } finally {
    await reg.close();
    await stack.close();
  }
}

if (import.meta.main) await run();
