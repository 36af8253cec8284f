// --allow-insecure-registry as cosign has it: a registry serving HTTPS with a self-signed
// certificate (made by OpenSSL here) is refused without the flag, with an error naming the
// registry and the flag, and signs and verifies with it. The registries listen on a
// non-loopback address of this machine, where HTTPS is the default (loopback registries may
// use plain HTTP); a plain-HTTP registry there needs --allow-http-registry or, as cosign's
// fallback, --allow-insecure-registry.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { nonLoopbackAddress, pushImage, startRegistry } from '../helpers/registry.ts';

const { stack, run, missing } = await imageTestbed('signet-oci-tls-');
const address = nonLoopbackAddress();
const skip = missing ?? (address ? false : 'this machine has no non-loopback IPv4 address');
const tlsReg = skip ? undefined : await startRegistry({ address: address!, tls: true });
after(() => tlsReg?.close());
const plainReg = skip ? undefined : await startRegistry({ address: address! });
after(() => plainReg?.close());
const localTls = missing ? undefined : await startRegistry({ tls: true });
after(() => localTls?.close());

const sign = ['sign', '--key', 'cosign.key', '--server', stack.url, '--rekor-version', '1'];
const verify = ['verify', '--key', 'cosign.pub', '--trusted-root', 'root.json'];

test(
  'a self-signed HTTPS registry: refused without --allow-insecure-registry, named',
  { skip },
  async () => {
    const img = pushImage(tlsReg!, 'tls/app');
    for (const args of [sign, verify]) {
      const r = await run([...args, img.ref]);
      assert.equal(r.status, 1, r.stderr);
      const line = r.stderr.trim();
      assert.equal(line.split('\n').length, 1, line);
      assert.match(line, new RegExp(`registry ${tlsReg!.host.replace(/\./g, '\\.')} `));
      assert.match(line, /TLS certificate that does not verify \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
      assert.match(line, /use --allow-insecure-registry/);
    }
    // --allow-http-registry is about plain HTTP, not certificates: still refused.
    const h = await run([...verify, '--allow-http-registry', img.ref]);
    assert.notEqual(h.status, 0);
    // nothing was written by the refused sign
    const v = await run([...verify, '--allow-insecure-registry', img.ref]);
    assert.equal(v.status, 10, v.stderr);
  },
);

test(
  'a self-signed HTTPS registry with --allow-insecure-registry: sign and verify work',
  { skip },
  async () => {
    const img = pushImage(tlsReg!, 'tls/signed');
    const s = await run([...sign, '--allow-insecure-registry', img.ref]);
    assert.equal(s.status, 0, s.stderr);
    const v = await run([...verify, '--allow-insecure-registry', '-o', 'json', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal((JSON.parse(v.stdout) as { valid: number }).valid, 1);
    // the same registry without the flag stays refused after a successful run
    const again = await run([...verify, img.ref]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /use --allow-insecure-registry/);
  },
);

test(
  'a plain-HTTP registry off loopback: HTTPS is tried unless a flag allows HTTP',
  { skip },
  async () => {
    const img = pushImage(plainReg!, 'plain/app');
    const no = await run([...verify, img.ref]);
    assert.equal(no.status, 1);
    assert.match(no.stderr, new RegExp(`https://${plainReg!.host.replace(/\./g, '\\.')}/v2/`));
    const s = await run([...sign, '--allow-http-registry', img.ref]);
    assert.equal(s.status, 0, s.stderr);
    for (const flag of ['--allow-http-registry', '--allow-insecure-registry']) {
      const v = await run([...verify, flag, img.ref]);
      assert.equal(v.status, 0, `${flag}: ${v.stderr}`);
    }
  },
);

test(
  'a self-signed HTTPS registry on loopback: found behind its plain-HTTP refusal, then the same rules',
  { skip: missing ?? false },
  async () => {
    const img = pushImage(localTls!, 'local/tls');
    const no = await run([...verify, img.ref]);
    assert.equal(no.status, 1, no.stderr);
    assert.match(
      no.stderr,
      new RegExp(
        `registry ${localTls!.host.replace(/\./g, '\\.')} presented a TLS certificate that does not verify .* at https://`,
      ),
    );
    assert.match(no.stderr, /use --allow-insecure-registry/);
    const s = await run([...sign, '--allow-insecure-registry', img.ref]);
    assert.equal(s.status, 0, s.stderr);
    const v = await run([...verify, '--allow-insecure-registry', img.ref]);
    assert.equal(v.status, 0, v.stderr);
  },
);
