/**
 * What the monitor's end-to-end tests watch: a stack in which dev@signet.local has signed one
 * artifact through Rekor v2, with its trusted_root.json in a fresh folder; and `signet monitor`
 * run in a child process, as a user runs it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import type { Bundle } from '../../../src/bundle/bundle.ts';

export interface WatchedStack {
  stack: Awaited<ReturnType<typeof tempStack>>;
  /** A fresh folder, holding `root.json`. */
  dir: string;
  rootFile: string;
  /** The transparency log (its current shard) and the CT log, as the trusted root names them. */
  shard: string;
  ctlog: string;
  /** The signed artifact's bundle. */
  bundle: Bundle;
}

export async function watchedStack(prefix: string): Promise<WatchedStack> {
  const stack = await tempStack();
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const ctx = await setupSigning({
      server: stack.url,
      identityToken: await stackToken(stack.url),
      rekorVersion: 2,
      interactive: 'never',
      env: {},
    });
    const bundle = await signArtifact(new TextEncoder().encode('watched'), ctx);
    const rootFile = path.join(dir, 'root.json');
    const text = await (await fetch(`${stack.url}/trusted_root.json`)).text();
    fs.writeFileSync(rootFile, text);
    const root = JSON.parse(text) as {
      tlogs: Array<{ baseUrl: string }>;
      ctlogs: Array<{ baseUrl: string }>;
    };
    return {
      stack,
      dir,
      rootFile,
      shard: root.tlogs[0]!.baseUrl,
      ctlog: root.ctlogs[0]!.baseUrl,
      bundle,
    };
  } catch (e) {
    await stack.close();
    throw e;
  }
}

/** `signet monitor ARGS`; a run still going after `timeoutMs` (when given) is killed. */
export function monitorCli(
  args: string[],
  timeoutMs = 0,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['src/cli/main.ts', 'monitor', ...args],
      { encoding: 'utf8', timeout: timeoutMs },
      (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  );
}
