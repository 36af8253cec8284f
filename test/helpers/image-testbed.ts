/**
 * What every image test starts from: a whole stack, Debian's docker-registry, and a work folder
 * holding the stack's trusted_root.json (`root.json`) and a cosign key pair (`cosign.key`,
 * password `pw`). Tests that cannot run here (no registry installed) are skipped, per test, with
 * the reason in `opts.skip`.
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackToken, tempStack } from './stack.ts';
import { registryMissing, startRegistry } from './registry.ts';
import { signet } from '../interop/sign-helpers.ts';

export async function imageTestbed(prefix: string) {
  const missing = registryMissing();
  const stack = await tempStack();
  after(() => stack.close());
  const reg = missing ? undefined : await startRegistry();
  after(() => reg?.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const rootJson = await (await fetch(`${stack.url}/trusted_root.json`)).text();
  fs.writeFileSync(path.join(dir, 'root.json'), rootJson);
  /** A signet command in the work folder; `stdin`: what it reads on its standard input. */
  const run = (args: string[], extra: Record<string, string> = {}, stdin?: string) =>
    signet(args, {
      cwd: dir,
      env: { COSIGN_PASSWORD: 'pw', ...extra },
      ...(stdin === undefined ? {} : { stdin }),
    });
  if (!missing) {
    const g = await run(['generate-key-pair']);
    assert.equal(g.status, 0, g.stderr);
  }
  const identity = 'dev@signet.local';
  const issuer = `${stack.url}/oidc`;
  /** The identity flags and trust of a keyless verification of the built-in provider's dev user. */
  const who = [
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    issuer,
    '--trusted-root',
    'root.json',
  ];
  /**
   * Keyed signing through the stack with a Rekor v1 entry (a legacy `.sig` image needs its
   * SET): `run(['sign', ...keyed, ref])`, `run(['attest', ...keyed, ...])`.
   */
  const keyed = ['--key', 'cosign.key', '--server', stack.url, '--rekor-version', '1'];
  /** A keyed verification's key and trust: `run(['verify', ...byKey, ref])`. */
  const byKey = ['--key', 'cosign.pub', '--trusted-root', 'root.json'];
  /** Keyless signing through the stack as the dev user, with a fresh token each call. */
  const keyless = async () => [
    '--server',
    stack.url,
    '--identity-token',
    await stackToken(stack.url, identity),
  ];
  return {
    missing,
    stack,
    reg,
    dir,
    rootJson,
    run,
    identity,
    issuer,
    who,
    keyed,
    keyless,
    byKey,
    opts: { skip: missing ?? false },
  };
}
