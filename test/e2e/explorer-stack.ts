import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type RunningStack } from '../../src/services/stack.ts';
import { explorerBundleCheck } from '../../src/cli/explorer-check.ts';
import { setupSigning, signArtifact, type SignContext } from '../../src/client/sign/index.ts';
import { serializeBundle } from '../../src/bundle/bundle.ts';
import { stackToken } from '../helpers/stack.ts';
import { startWitness, type RunningWitness } from '../../src/services/witness/server.ts';
import { witnessedLogs } from '../../src/services/witness/logs.ts';

/**
 * A whole stack as `signet up` runs it (with the explorer's bundle check, which the CLI hands
 * in), with an email and a GitHub Actions identity, a witness cosigning its checkpoints, and
 * real keyless signing through it.
 */
export const ALICE = 'alice@example.com';
export const GITHUB_REPO = 'octo-org/app';

export type ExplorerStack = RunningStack & {
  dataDir: string;
  tufCache: string;
  /** The witness that cosigns the log's checkpoints (c2sp.org/tlog-witness), if any. */
  witness?: RunningWitness;
};

export const WITNESS_NAME = 'witness.example/w1';

/**
 * The stack is started twice: first to make its keys and learn its port and trusted root, from
 * which the witness learns the log it witnesses; then on the same data and port with that
 * witness configured, as an operator would.
 */
export async function explorerStack(): Promise<ExplorerStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-explorer-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const oidc = {
    identities: [
      { flavor: 'email', name: ALICE },
      { flavor: 'github', name: GITHUB_REPO },
    ],
  };
  const first = await startStack({ port: 0, host: '127.0.0.1', dataDir, log: quiet });
  const rootFile = path.join(dataDir, 'first-root.json');
  fs.writeFileSync(rootFile, await (await fetch(`${first.url}/trusted_root.json`)).text());
  const port = Number(new URL(first.url).port);
  await first.close();
  const witness = await startWitness({
    port: 0,
    host: '127.0.0.1',
    dataDir: path.join(dataDir, 'witness'),
    name: WITNESS_NAME,
    logs: witnessedLogs({ vkeys: [], trustedRootFile: rootFile }),
    log: quiet,
  });
  const stack = await startStack({
    port,
    host: '127.0.0.1',
    dataDir,
    log: quiet,
    checkBundle: explorerBundleCheck,
    config: {
      oidc,
      rekor: { witnesses: [{ url: witness.url, key: witness.vkey }], witnessTimeoutMs: 2000 },
    },
  });
  return {
    ...stack,
    dataDir,
    tufCache: path.join(dataDir, 'tuf-cache'),
    witness,
    async close() {
      await stack.close();
      await witness.close();
    },
  };
}

/** The stack without a witness (`dataDir` to start it again on the same data). */
export async function plainExplorerStack(dataDir?: string): Promise<ExplorerStack> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'signet-explorer-'));
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    log: { info() {}, warn() {}, error() {} },
    checkBundle: explorerBundleCheck,
    config: { oidc: { identities: [{ flavor: 'email', name: ALICE }] } },
  });
  return { ...stack, dataDir: dir, tufCache: path.join(dir, `tuf-cache-${Date.now()}`) };
}

export interface Signed {
  artifact: Uint8Array;
  bundle: string;
  /** What the client said while signing (the CLI prints these on stderr). */
  events: string[];
}

export interface SignAs {
  subject?: string;
  github?: boolean;
  rekorVersion?: 1 | 2;
}

/**
 * A keyless signing context on the stack, as `signet sign-blob --server` sets one up, and the
 * events the client says while it signs.
 */
export async function signingAs(
  stack: ExplorerStack,
  opts: SignAs = {},
): Promise<{ ctx: SignContext; events: string[] }> {
  const token = opts.github
    ? await stackToken(stack.url, opts.subject ?? GITHUB_REPO, '/github')
    : await stackToken(stack.url, opts.subject ?? ALICE);
  const events: string[] = [];
  const ctx = await setupSigning({
    server: stack.url,
    identityToken: token,
    tufCacheDir: stack.tufCache,
    interactive: 'never',
    env: {},
    ...(opts.rekorVersion ? { rekorVersion: opts.rekorVersion } : {}),
    onEvent: (m) => events.push(m),
  });
  return { ctx, events };
}

/** Keyless signing through the stack, as `signet sign-blob --server` does. */
export async function signThrough(
  stack: ExplorerStack,
  artifact: Uint8Array,
  opts: SignAs = {},
): Promise<Signed> {
  const { ctx, events } = await signingAs(stack, opts);
  const bundle = serializeBundle(await signArtifact(artifact, ctx));
  return { artifact, bundle, events };
}

/** The explorer link the client printed for the entry it made. */
export function explorerLink(s: Signed): string {
  const line = s.events.find((e) => e.startsWith('tlog entry in the explorer: '));
  if (!line) throw new Error(`no explorer link among: ${s.events.join(' | ')}`);
  return line.slice('tlog entry in the explorer: '.length);
}
