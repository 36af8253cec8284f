import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type RunningStack } from '../../src/services/stack.ts';
import { createIdentityVerifier } from '../../src/services/ca/identity/verifier.ts';
import { defaultCaIssuerConfig } from '../../src/services/oidc/ca-issuers.ts';

/**
 * A whole stack for the browser tests, with a few more identities than the defaults so the
 * login page offers a real choice, and no device polling delay. (test/helpers/stack.ts takes
 * no configuration.)
 */
export const ALICE = 'alice@example.com';
export const GITHUB_REPO = 'octo-org/app';

export async function browserTestStack(): Promise<
  RunningStack & { dataDir: string; verifier: ReturnType<typeof createIdentityVerifier> }
> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-e2e-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    log: quiet,
    config: {
      oidc: {
        devicePollIntervalSeconds: 0,
        identities: [
          { flavor: 'email', name: ALICE },
          { flavor: 'github', name: GITHUB_REPO },
        ],
      },
    },
  });
  // The CA's own verifier for the stack's issuers: a token it accepts is one the CA would certify.
  const verifier = createIdentityVerifier(defaultCaIssuerConfig(stack.url));
  return { ...stack, dataDir, verifier };
}
