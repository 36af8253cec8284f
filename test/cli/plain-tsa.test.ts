/**
 * A plain RFC 3161 timestamp authority, end to end: OpenSSL's own responder on loopback (DER in,
 * DER out, one path, nothing of Sigstore's API) as cosign's --timestamp-server-url, with the
 * rest of the services from a Signet stack. The bundle's timestamp is OpenSSL's, and verify-blob
 * takes it as the signed time with a trusted root that lists that TSA (and refuses it without).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOpensslTsa, type OpensslTsa } from '../helpers/openssl-tsa.ts';
import { stackToken, tempStack } from '../helpers/stack.ts';
import { oneError, signet } from '../interop/sign-helpers.ts';
import { parseTimestamp } from '../../src/core/rfc3161/token.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-plain-tsa-'));
let stack: Awaited<ReturnType<typeof tempStack>>;
let tsa: OpensslTsa;

before(async () => {
  [stack, tsa] = await Promise.all([tempStack(), startOpensslTsa()]);
  fs.writeFileSync(path.join(dir, 'a.txt'), 'stamped by OpenSSL\n');
});
after(async () => {
  await Promise.all([stack?.close(), tsa?.close()]);
});

const run = (args: string[]) => signet(args, { cwd: dir });
const verify = (root: string) =>
  run([
    ...['verify-blob', '--trusted-root', root, '--bundle', 'b.json'],
    ...['--certificate-identity', 'dev@signet.local'],
    ...['--certificate-oidc-issuer', `${stack.url}/oidc`, '--use-signed-timestamps', 'a.txt'],
  ]);

test("sign-blob --timestamp-server-url OpenSSL's responder; verify-blob with a root that lists it", async () => {
  const s = await run([
    ...['sign-blob', '--server', stack.url, '--identity-token', await stackToken(stack.url)],
    ...['--timestamp-server-url', tsa.url, '--bundle', 'b.json', 'a.txt'],
  ]);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(s.stderr.includes(`timestamp received from ${tsa.url}\n`), s.stderr);
  // One DER request, at the URL as given, read by OpenSSL.
  assert.deepEqual(tsa.requests, [
    { path: '/tsr', contentType: 'application/timestamp-query', read: true },
  ]);
  const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'b.json'), 'utf8'));
  const stamps = bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps;
  assert.equal(stamps.length, 1);
  const ts = parseTimestamp(Buffer.from(stamps[0].signedTimestamp, 'base64'));
  assert.equal(ts.tstInfo.policy, '1.2.3.4.1'); // OpenSSL's responder's, not Signet's TSA
  assert.equal(typeof ts.tstInfo.nonce, 'bigint');

  // The stack's trusted root, and the same with OpenSSL's TSA (made by trusted-root create).
  const own = await run(['trusted-root', '--server', stack.url, '--out', 'stack-root.json']);
  assert.equal(own.status, 0, own.stderr);
  const made = await run([
    ...['trusted-root', 'create', '--tsa', `url=${tsa.url},certificate-chain=${tsa.chainFile}`],
    ...['--out', 'tsa-root.json'],
  ]);
  assert.equal(made.status, 0, made.stderr);
  const root = JSON.parse(fs.readFileSync(path.join(dir, 'stack-root.json'), 'utf8'));
  const withTsa = JSON.parse(fs.readFileSync(path.join(dir, 'tsa-root.json'), 'utf8'));
  root.timestampAuthorities.push(...withTsa.timestampAuthorities);
  fs.writeFileSync(path.join(dir, 'root.json'), JSON.stringify(root));

  const ok = await verify('root.json');
  assert.equal(ok.status, 0, ok.stderr);
  const untrusted = await verify('stack-root.json');
  assert.notEqual(untrusted.status, 0, untrusted.stderr);
  assert.match(
    oneError(untrusted.stderr),
    /timestamp 1 does not verify: the timestamp was not signed by a timestamp authority of the trusted root/,
  );
});
