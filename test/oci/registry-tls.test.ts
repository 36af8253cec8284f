// cosign's registry connection flags against Debian's docker-registry serving HTTPS with
// certificates made by OpenSSL: --registry-cacert (a private CA instead of turning verification
// off), --registry-server-name (a certificate for another name than the address), mutual TLS
// with --registry-client-cert/--registry-client-key, and --registry-token (a bearer token the
// registry takes as it is; a loopback front checks it and passes requests to the registry).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { forward, loopbackServer, pushImage, startRegistry } from '../helpers/registry.ts';
import { oneError } from '../interop/sign-helpers.ts';

const { stack, reg, dir, run, missing, opts } = await imageTestbed('signet-oci-ca-');
const serverTls = missing ? undefined : await startRegistry({ tls: true });
after(() => serverTls?.close());
const named = missing ? undefined : await startRegistry({ tls: { name: 'registry.test' } });
after(() => named?.close());
const mutual = missing ? undefined : await startRegistry({ tls: { clientAuth: true } });
after(() => mutual?.close());

const sign = ['sign', '--key', 'cosign.key', '--server', stack.url, '--rekor-version', '1'];
const verify = ['verify', '--key', 'cosign.pub', '--trusted-root', 'root.json', '-o', 'json'];
const valid = (stdout: string) => (JSON.parse(stdout) as { valid: number }).valid;

test(
  '--registry-cacert: a registry with a private CA signs and verifies with verification on',
  opts,
  async () => {
    const img = pushImage(serverTls!, 'ca/app');
    const ca = ['--registry-cacert', serverTls!.tls!.cert];
    const plain = await run([...verify, img.ref]);
    assert.equal(plain.status, 1, plain.stderr);
    assert.match(
      oneError(plain.stderr),
      /does not verify \(DEPTH_ZERO_SELF_SIGNED_CERT\) .*: give its CA with --registry-cacert, or if you trust this registry anyway, use --allow-insecure-registry/,
    );
    const s = await run([...sign, ...ca, img.ref]);
    assert.equal(s.status, 0, s.stderr);
    const v = await run([...verify, ...ca, img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(valid(v.stdout), 1);
    // Another CA (the certificate of another registry): refused, and said so.
    const wrong = await run([...verify, '--registry-cacert', named!.tls!.cert, img.ref]);
    assert.equal(wrong.status, 1, wrong.stderr);
    assert.match(
      oneError(wrong.stderr),
      /does not verify .*: it does not chain to --registry-cacert/,
    );
  },
);

test('--registry-server-name: a certificate for a DNS name, reached by address', opts, async () => {
  const img = pushImage(named!, 'name/app');
  const ca = ['--registry-cacert', named!.tls!.cert];
  const noName = await run([...verify, ...ca, img.ref]);
  assert.equal(noName.status, 1, noName.stderr);
  assert.match(
    oneError(noName.stderr),
    /ERR_TLS_CERT_ALTNAME_INVALID.*--registry-server-name names the one it carries/,
  );
  const s = await run([...sign, ...ca, '--registry-server-name', 'registry.test', img.ref]);
  assert.equal(s.status, 0, s.stderr);
  const v = await run([...verify, ...ca, '--registry-server-name', 'registry.test', img.ref]);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(valid(v.stdout), 1);
  const other = await run([...verify, ...ca, '--registry-server-name', 'other.test', img.ref]);
  assert.equal(other.status, 1, other.stderr);
});

test(
  '--registry-client-cert and --registry-client-key: a registry that asks for a client certificate',
  opts,
  async () => {
    const img = pushImage(mutual!, 'mtls/app');
    const t = mutual!.tls!;
    const ca = ['--registry-cacert', t.cert];
    const client = ['--registry-client-cert', t.clientCert!, '--registry-client-key', t.clientKey!];
    const without = await run([...verify, ...ca, img.ref]);
    assert.equal(without.status, 1, without.stderr);
    assert.match(
      oneError(without.stderr),
      new RegExp(
        `the registry ${mutual!.host} asks for a client certificate \\(ERR_SSL_[\\w/]+\\): give it with --registry-client-cert and --registry-client-key$`,
      ),
    );
    const s = await run([...sign, ...ca, ...client, img.ref]);
    assert.equal(s.status, 0, s.stderr);
    const v = await run([...verify, ...ca, ...client, img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(valid(v.stdout), 1);
  },
);

// A registry that takes one bearer token as it is (as GitHub's takes a job token): the front
// answers 401 to anything else and passes the rest to the plain-HTTP registry.
const TOKEN = 'job-token-123';
const front = missing
  ? undefined
  : await loopbackServer(async (q, res) => {
      if (q.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="front"' });
        res.end();
        return;
      }
      const r = await forward(reg!, front!.host, q, ['authorization']);
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
after(() => front?.close());

test('--registry-token: sent as the bearer token, and a wrong one is named', opts, async () => {
  const img = pushImage(reg!, 'token/app');
  const ref = `${front!.host}/token/app@${img.digest}`;
  const none = await run([...verify, ref]);
  assert.equal(none.status, 1, none.stderr);
  assert.match(oneError(none.stderr), /requires authentication .* no credentials were found/);
  const s = await run([...sign, '--registry-token', TOKEN, ref]);
  assert.equal(s.status, 0, s.stderr);
  const v = await run([...verify, '--registry-token', TOKEN, ref]);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(valid(v.stdout), 1);
  const wrong = await run([...verify, '--registry-token', 'not-it', ref]);
  assert.equal(wrong.status, 1, wrong.stderr);
  assert.match(
    oneError(wrong.stderr),
    /refused the --registry-token for .*token\/app \(HTTP 401\)/,
  );
});

test(
  'registry connection flags that are wrong: one line each, before any request',
  opts,
  async () => {
    const img = pushImage(reg!, 'flags/app');
    fs.writeFileSync(path.join(dir, 'not.pem'), 'hello');
    fs.writeFileSync(path.join(dir, 'key-only.pem'), fs.readFileSync(mutual!.tls!.clientKey!));
    execFileSync(
      'openssl',
      ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'other.key'],
      {
        cwd: dir,
      },
    );
    const cases: Array<[string[], RegExp]> = [
      [['--registry-cacert', 'not.pem'], /--registry-cacert not.pem: contains no PEM block/],
      [
        ['--registry-cacert', 'key-only.pem'],
        /--registry-cacert key-only.pem: holds no CA certificate/,
      ],
      [['--registry-cacert', 'no-such.pem'], /--registry-cacert: .*no-such.pem does not exist/],
      [
        ['--registry-client-cert', mutual!.tls!.clientCert!],
        /--registry-client-cert: goes with --registry-client-cert and --registry-client-key together/,
      ],
      [
        ['--registry-client-cert', mutual!.tls!.clientCert!, '--registry-client-key', 'other.key'],
        /--registry-client-key: is not the key of --registry-client-cert/,
      ],
      [['--registry-server-name', 'a b'], /--registry-server-name: "a b" is not a host name/],
      [['--registry-token', 'a b'], /--registry-token: is empty or has white space/],
      [['--k8s-keychain'], /--k8s-keychain: is not supported: name the cloud's credential helper/],
    ];
    for (const [flags, message] of cases) {
      const r = await run([...verify, ...flags, img.ref]);
      assert.equal(r.status, 1, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(oneError(r.stderr), message);
    }
  },
);
