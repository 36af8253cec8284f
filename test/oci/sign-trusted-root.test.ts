// `signet sign IMAGE` and `signet attest IMAGE` with --trusted-root check, as sign-blob does,
// the certificate before anything is signed and each new signature before it is pushed: they
// took the flag and ignored it, pushing signatures no verifier of that root accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { stackToken } from '../helpers/stack.ts';
import { pushImage } from '../helpers/registry.ts';
import { oneError } from '../interop/sign-helpers.ts';

const { stack, reg, dir, run, identity, issuer, opts } = await imageTestbed('signet-oci-root-');

const own = path.join(dir, 'own_root.json');
const noLogs = path.join(dir, 'no_logs_root.json');
const rootText = await (await fetch(`${stack.url}/trusted_root.json`)).text();
fs.writeFileSync(own, rootText);
// The stack's CAs, but none of its logs: a certificate passes, no new signature can.
fs.writeFileSync(noLogs, JSON.stringify({ ...JSON.parse(rootText), tlogs: [] }));

const keyless = async (args: string[]) =>
  run([
    args[0]!,
    '--server',
    stack.url,
    '--identity-token',
    await stackToken(stack.url, identity),
    ...args.slice(1),
  ]);
const verifyFlags = ['--certificate-identity', identity, '--certificate-oidc-issuer', issuer];

test(
  'sign and attest an image with the trusted root that vouches for them: pushed and verified, both schemes',
  opts,
  async () => {
    const img = pushImage(reg!, 'root/good');
    for (const extra of [[], ['--registry-referrers-mode', 'legacy', '--rekor-version', '1']]) {
      const s = await keyless(['sign', '--trusted-root', own, ...extra, img.ref]);
      assert.equal(s.status, 0, s.stderr);
    }
    const a = await keyless([
      'attest',
      '--trusted-root',
      own,
      '--type',
      'custom',
      '--predicate',
      own,
      img.ref,
    ]);
    assert.equal(a.status, 0, a.stderr);
    const v = await run(['verify', '--server', stack.url, ...verifyFlags, '-o', 'json', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal((JSON.parse(v.stdout) as { valid: number }).valid, 2);
  },
);

test(
  'a new signature that does not verify against --trusted-root is not pushed',
  opts,
  async () => {
    const img = pushImage(reg!, 'root/refused');
    for (const [cmd, extra] of [
      ['sign', []],
      ['sign', ['--registry-referrers-mode', 'legacy', '--rekor-version', '1']],
      ['attest', ['--type', 'custom', '--predicate', own]],
    ] as const) {
      const r = await keyless([cmd, '--trusted-root', noLogs, ...extra, img.ref]);
      assert.equal(r.status, 1, r.stderr); // as sign-blob's refusal
      assert.match(
        oneError(r.stderr),
        new RegExp(
          `^error: the new bundle does not verify against ${noLogs.replace(/[.]/g, '\\.')}, so it was not pushed: `,
        ),
      );
    }
    const v = await run(['verify', '--server', stack.url, ...verifyFlags, img.ref]);
    assert.equal(v.status, 10, `nothing was pushed: ${v.stderr}`);
    const att = await run([
      'verify-attestation',
      '--server',
      stack.url,
      ...verifyFlags,
      '--type',
      'custom',
      img.ref,
    ]);
    assert.equal(att.status, 10, `nothing was pushed: ${att.stderr}`);
  },
);
