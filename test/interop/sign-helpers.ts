// Shared by the sign-*.test.ts interop tests and the image tests: run `signet` (and read its one
// error line), get tokens from the stack's identity provider, and verify bundles with sigstore-js
// (the independent oracle).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier, type KeyFinderFunc } from '@sigstore/verify';

export const bin = path.resolve('bin/signet');
/** A TUF cache of this test process only: every test stack has its own TUF root. */
const tufCache = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-cache-'));

export function signet(
  args: string[],
  /** `stdin`: what the command reads on its standard input (none by default). */
  opts: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: { ...process.env, SIGNET_SERVER: '', SIGNET_TUF_CACHE: tufCache, ...opts.env },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.stdin !== undefined) {
      // A command that fails before reading its input closes the pipe: that is its answer.
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.stdin);
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': the exit can be seen before the last of stderr is read (under load a
    // one-line error came back empty), and close waits for the pipes to end.
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export { stackToken } from '../helpers/stack.ts';

/** The only error line of a signet run's stderr (a failure is one line that says what is wrong). */
export function oneError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(lines.length, 1, stderr);
  return lines[0]!;
}

/** Verify a bundle with sigstore-js against the stack's trusted_root.json. */
export async function verifyWithSigstoreJs(
  url: string,
  bundleJson: string,
  opts: {
    artifact?: Uint8Array;
    keys?: KeyFinderFunc;
    tlogThreshold?: number;
    ctlogThreshold?: number;
    timestampThreshold?: number;
    identity?: string;
    issuer?: string;
  },
) {
  const root = TrustedRoot.fromJSON(await (await fetch(`${url}/trusted_root.json`)).json());
  const material = toTrustMaterial(root, opts.keys);
  const verifier = new Verifier(material, {
    tlogThreshold: opts.tlogThreshold ?? 1,
    ctlogThreshold: opts.ctlogThreshold ?? 1,
    timestampThreshold: opts.timestampThreshold ?? 1,
  });
  const entity = toSignedEntity(
    bundleFromJSON(JSON.parse(bundleJson)),
    opts.artifact ? Buffer.from(opts.artifact) : undefined,
  );
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return verifier.verify(
    entity,
    opts.identity
      ? {
          subjectAlternativeName: new RegExp(`^${escape(opts.identity)}$`),
          extensions: opts.issuer ? { issuer: opts.issuer } : undefined,
        }
      : undefined,
  );
}
