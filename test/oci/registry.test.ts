// Registries as users have them: Debian's docker-registry behind htpasswd basic auth (flags,
// ~/.docker/config.json auths, a docker-credential helper), and bad registries and bad input:
// each a one-line error naming the image and the reason, nothing partial pushed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';
import {
  loopbackServer as server,
  pushImage,
  registryMissing,
  startRegistry,
} from '../helpers/registry.ts';
import { oneError, signet } from '../interop/sign-helpers.ts';
import { peakRssKiB, signetWithPeak } from '../helpers/peak-rss.ts';

const missing = registryMissing();
const stack = await tempStack();
after(() => stack.close());
const reg = missing ? undefined : await startRegistry({ auth: { user: 'ci', password: 's3cret' } });
after(() => reg?.close());
const plain = missing ? undefined : await startRegistry();
after(() => plain?.close());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-reg-'));
fs.writeFileSync(
  path.join(dir, 'root.json'),
  await (await fetch(`${stack.url}/trusted_root.json`)).text(),
);
const emptyDocker = path.join(dir, 'no-docker');
fs.mkdirSync(emptyDocker);
const run = (args: string[], env: Record<string, string> = {}) =>
  signet(args, { cwd: dir, env: { COSIGN_PASSWORD: 'pw', DOCKER_CONFIG: emptyDocker, ...env } });
const opts = { skip: missing ?? false };
const verifyKey = ['verify', '--key', 'cosign.pub', '--trusted-root', 'root.json'];
const signKey = ['sign', '--key', 'cosign.key', '--server', stack.url, '--rekor-version', '1'];
if (!missing) assert.equal((await run(['generate-key-pair'])).status, 0);

test(
  'basic auth: --registry-username/--registry-password, Docker config auths, a credential helper; clear 401s',
  opts,
  async () => {
    const img = pushImage(reg!, 'private/app');
    const noCreds = await run([...signKey, img.ref]);
    assert.equal(noCreds.status, 1);
    assert.match(
      oneError(noCreds.stderr),
      new RegExp(
        `registry ${reg!.host} requires authentication for ${reg!.host}/private/app .*run signet login ${reg!.host} \\(or docker login\\), or give --registry-username and --registry-password`,
      ),
    );
    const wrong = await run([
      ...signKey,
      '--registry-username',
      'ci',
      '--registry-password',
      'nope',
      img.ref,
    ]);
    assert.equal(wrong.status, 1);
    assert.match(oneError(wrong.stderr), /refused the credentials for .*private\/app \(HTTP 401\)/);
    const s = await run([
      ...signKey,
      '--registry-username',
      'ci',
      '--registry-password',
      's3cret',
      img.ref,
    ]);
    assert.equal(s.status, 0, s.stderr);
    // DOCKER_CONFIG with auths
    const cfg = path.join(dir, 'docker-auths');
    fs.mkdirSync(cfg, { recursive: true });
    fs.writeFileSync(
      path.join(cfg, 'config.json'),
      JSON.stringify({
        auths: { [reg!.host]: { auth: Buffer.from('ci:s3cret').toString('base64') } },
      }),
    );
    const v = await run([...verifyKey, img.ref], { DOCKER_CONFIG: cfg });
    assert.equal(v.status, 0, v.stderr);
    // credHelpers through a docker-credential-NAME program on PATH (the helper protocol)
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
      path.join(bin, 'docker-credential-signettest'),
      `#!/bin/sh\nread host\nif [ "$1" = get ] && [ "$host" = "${reg!.host}" ]; then echo '{"ServerURL":"'$host'","Username":"ci","Secret":"s3cret"}'; else echo "credentials not found in native keychain"; exit 1; fi\n`,
      { mode: 0o755 },
    );
    const helperCfg = path.join(dir, 'docker-helper');
    fs.mkdirSync(helperCfg, { recursive: true });
    fs.writeFileSync(
      path.join(helperCfg, 'config.json'),
      JSON.stringify({ credHelpers: { [reg!.host]: 'signettest' } }),
    );
    const h = await run([...verifyKey, img.ref], {
      DOCKER_CONFIG: helperCfg,
      PATH: `${bin}:${process.env.PATH}`,
    });
    assert.equal(h.status, 0, h.stderr);
    // credsStore whose helper is not installed: named in the error
    fs.writeFileSync(
      path.join(helperCfg, 'config.json'),
      JSON.stringify({ credsStore: 'absent-helper' }),
    );
    const absent = await run([...verifyKey, img.ref], { DOCKER_CONFIG: helperCfg });
    assert.match(oneError(absent.stderr), /docker-credential-absent-helper .*not installed/);
  },
);

test(
  'a tag that does not exist, a registry that is down, one that answers HTML: one line naming the image',
  opts,
  async () => {
    const nope = await run([...verifyKey, `${plain!.host}/no/such:tag`]);
    assert.equal(nope.status, 11); // cosign: image tag not found
    assert.match(
      oneError(nope.stderr),
      new RegExp(`${plain!.host}/no/such:tag: no such image: .* has no tag tag`),
    );
    // By digest the signatures are looked for first; finding none, the image is asked for.
    const missing = `sha256:${'ab'.repeat(32)}`;
    const byDigest = await run([...verifyKey, `${plain!.host}/no/such@${missing}`]);
    assert.equal(byDigest.status, 11);
    assert.match(
      oneError(byDigest.stderr),
      new RegExp(`${plain!.host}/no/such@${missing}: no such image: .* has no manifest ${missing}`),
    );
    const down = await server(() => {});
    const host = down.host;
    await down.close();
    const d = await run([...verifyKey, `${host}/x/y:1`]);
    assert.match(
      oneError(d.stderr),
      new RegExp(`${host}/x/y:1: cannot reach the registry ${host}`),
    );
    const html = await server((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Welcome</body></html>');
    });
    const h = await run([...verifyKey, `${html.host}/x/y:1`]);
    await html.close();
    assert.match(oneError(h.stderr), /x\/y:1.*answered a web page \(text\/html\), not a manifest/);
    // A registry that takes the request and never answers: cosign's -t/--timeout durations.
    const silent = await server(() => {});
    try {
      const t0 = performance.now();
      const slow = await run([...verifyKey, '-t', '500ms', `${silent.host}/x/y:1`]);
      assert.match(oneError(slow.stderr), /x\/y:1: .*no answer within 0\.5 s/);
      assert.ok(performance.now() - t0 < 20_000);
      const long = await run([...verifyKey, '--timeout', '3m0s', `${host}/x/y:1`]);
      assert.match(oneError(long.stderr), /cannot reach the registry/); // taken, then down
      const zero = await run([...verifyKey, '--timeout', '0s', `${silent.host}/x/y:1`]);
      assert.equal(zero.status, 1);
      assert.match(oneError(zero.stderr), /--timeout: "0s" is not a positive duration/);
    } finally {
      await silent.close();
    }
  },
);

test('-t/--timeout on the blob, key and trust commands as in cosign: each request they make ends at it; a bad value is refused by name', async () => {
  // Takes every request and never answers: a TUF repository, a root URL, a log that hang.
  const silent = await server(() => {});
  const hang = `http://${silent.host}`;
  const work = fs.mkdtempSync(path.join(dir, 'timeout-'));
  const at = (line: string, env: Record<string, string> = {}) =>
    signet(line.split(' '), {
      cwd: work,
      env: {
        COSIGN_PASSWORD: 'pw',
        SIGNET_TUF_CACHE: path.join(work, 'tuf'),
        DOCKER_CONFIG: path.join(work, 'docker'),
        ...env,
      },
    });
  const ok = async (line: string) => {
    const r = await at(line);
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  };
  try {
    // What the commands are given: a key pair, a file, its bundles and signature, a TUF root.
    fs.writeFileSync(path.join(work, 'a.txt'), 'hello\n');
    fs.writeFileSync(path.join(work, 'p.json'), '{"a":1}');
    fs.writeFileSync(
      path.join(work, 'root.json'),
      await (await fetch(`${stack.url}/tuf/1.root.json`)).text(),
    );
    fs.writeFileSync(
      path.join(work, 'plain.pem'),
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    );
    await ok('generate-key-pair --output-key-prefix k');
    const keyed = `--key k.key --server ${stack.url}`;
    await ok(`sign-blob ${keyed} --bundle a.sigstore.json --output-signature a.sig a.txt`);
    await ok(
      `attest-blob ${keyed} --predicate p.json --type custom --bundle att.sigstore.json a.txt`,
    );
    // The default TUF repository (cosign's TUF_MIRROR) is the one that hangs.
    const mirror = { TUF_MIRROR: hang, TUF_ROOT_JSON: path.join(work, 'root.json') };
    const requesting: Array<[string, Record<string, string>?]> = [
      [`verify-blob --key k.pub --server ${hang} --bundle a.sigstore.json a.txt`],
      [`verify-blob-attestation --key k.pub --server ${hang} --bundle att.sigstore.json a.txt`],
      [`initialize --mirror ${hang} --root root.json`],
      [`initialize --mirror ${hang} --root ${hang}/root.json`],
      [`bundle create --artifact a.txt --signature a.sig --key k.pub --rekor-url ${hang}`],
      ['trusted-root create --with-default-services', mirror],
      ['signing-config create --with-default-services', mirror],
    ];
    const unanswered = new RegExp(`${hang.replace(/\./g, '\\.')}/\\S*: no answer within 1 s`);
    for (const [line, env] of requesting) {
      const t0 = performance.now();
      const r = await at(`${line} --timeout 1s`, env);
      const took = performance.now() - t0;
      assert.equal(r.status, 1, `${line}: ${r.stderr}`);
      assert.match(oneError(r.stderr), unanswered, line);
      // Without it each request would wait the default 30 s.
      assert.ok(took < 8000, `${line} took ${Math.round(took)} ms`);
    }
    // No request to make: taken, and the command does its work.
    const local = [
      `login ${silent.host} -u ci -p s3cret`,
      'public-key --key k.key',
      'generate-key-pair --output-key-prefix k2',
      'import-key-pair --key plain.pem --output-key-prefix imported',
      'bundle inspect a.sigstore.json',
      // A v0.3 bundle with its inclusion proof: nothing is fetched from the log.
      `bundle upgrade --rekor-url ${hang} a.sigstore.json`,
    ];
    await Promise.all(local.map((line) => ok(`${line} -t 3m0s`)));
    for (const f of ['k2.key', 'imported.key', 'docker/config.json'])
      assert.ok(fs.existsSync(path.join(work, f)), f);
    // A bad value is refused before anything is done, by every one of them.
    const lines = [...requesting.map(([line]) => line), ...local];
    const refused = await Promise.all(
      lines.flatMap((line) =>
        ['0', 'abc'].map(async (v) => ({ line, v, r: await at(`${line} --timeout ${v}`) })),
      ),
    );
    for (const { line, v, r } of refused) {
      assert.equal(r.status, 1, `${line} --timeout ${v}: ${r.stderr}`);
      assert.match(
        oneError(r.stderr),
        new RegExp(`^error: --timeout: "${v}" is not a positive duration`),
        line,
      );
    }
  } finally {
    await silent.close();
  }
});

test('a web server taken for a registry: one line saying it is not an OCI registry, naming the host; exit 1, not 11 ("no such image")', async () => {
  const identity = [
    'verify',
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    `${stack.url}/oidc`,
    '--trusted-root',
    'root.json',
  ];
  const digest = `sha256:${'ab'.repeat(32)}`;
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // 404 to everything, as a plain HTTP server does; then 404 pages and a home page at /v2/
  for (const [name, handler, why] of [
    [
      'plain 404',
      (_q: IncomingMessage, res: ServerResponse) => res.writeHead(404).end('Not Found'),
      'answered HTTP 404, where a registry answers 200',
    ],
    [
      'web site',
      (q: IncomingMessage, res: ServerResponse) =>
        res
          .writeHead(q.url === '/v2/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' })
          .end('<html><body>Not here</body></html>'),
      'answered a web page \\(text/html\\)',
    ],
  ] as const) {
    const web = await server(handler);
    try {
      const not = (image: string) =>
        new RegExp(
          `^error: ${esc(image)}: the server at ${esc(web.host)} is not an OCI registry: GET ${esc(`http://${web.host}/v2/`)} ${why}$`,
        );
      for (const args of [
        [...identity, `${web.host}/x/y:tag`],
        [...identity, `${web.host}/x/y@${digest}`],
        ['triangulate', `${web.host}/x/y:tag`],
        ['tree', `${web.host}/x/y:tag`],
      ]) {
        const r = await run(args);
        assert.equal(r.status, 1, `${name}: ${args.join(' ')}: ${r.stderr}`);
        assert.match(oneError(r.stderr), not(args.at(-1)!), name);
      }
    } finally {
      await web.close();
    }
  }
  // A registry whose 404 carries no error body is still a registry: its /v2/ answers 200.
  const terse = await server((q, res) => {
    if (q.url === '/v2/') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(404).end();
  });
  try {
    const r = await run([...identity, `${terse.host}/x/y:tag`]);
    assert.equal(r.status, 11, r.stderr);
    assert.match(oneError(r.stderr), /x\/y:tag: no such image: .* has no tag tag$/);
  } finally {
    await terse.close();
  }
});

test(
  'malformed and oversized manifests, and a registry serving the wrong digest',
  opts,
  async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const fake = await server((q, res) => {
      // No signatures anywhere, so a verify by digest goes on to fetch the image's manifest.
      if (q.url?.includes('/manifests/sha256-') || q.url?.includes('/referrers/')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      } else if (q.url?.includes('/manifests/bad')) {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        res.end(JSON.stringify({ schemaVersion: 2, config: {}, layers: 'none' }));
      } else if (q.url?.includes('/manifests/huge')) {
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'content-length': String(5 * 1024 * 1024),
        });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        res.end(JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }));
      }
    });
    try {
      const bad = await run([...verifyKey, `${fake.host}/x/y:bad`]);
      assert.match(oneError(bad.stderr), /x\/y:bad.*layers: must be an array/);
      const huge = await run([...verifyKey, `${fake.host}/x/y:huge`]);
      assert.match(oneError(huge.stderr), /x\/y:huge.*too large \(limit 4194304 bytes\)/);
      const mism = await run([...verifyKey, `${fake.host}/x/y@${digest}`]);
      assert.match(
        oneError(mism.stderr),
        new RegExp(
          `served a manifest whose digest is sha256:[0-9a-f]{64}, not the ${digest} asked for`,
        ),
      );
    } finally {
      await fake.close();
    }
  },
);

test(
  'if the log upload fails nothing is pushed; if the push fails after the log entry, it says so and --bundle is written',
  opts,
  async () => {
    const img = pushImage(plain!, 'fail/app');
    const cfg = JSON.parse(await (await fetch(`${stack.url}/signing_config.json`)).text());
    const down = await server(() => {});
    const deadUrl = `http://${down.host}`;
    await down.close();
    for (const t of cfg.rekorTlogUrls) t.url = deadUrl;
    fs.writeFileSync(path.join(dir, 'dead-rekor.json'), JSON.stringify(cfg));
    const noLog = await run([
      'sign',
      '--key',
      'cosign.key',
      '--signing-config',
      'dead-rekor.json',
      img.ref,
    ]);
    assert.equal(noLog.status, 1);
    assert.match(oneError(noLog.stderr), /cannot reach the transparency log/);
    const tags = (await (await fetch(`${plain!.url}/v2/fail/app/tags/list`)).json()) as {
      tags: string[];
    };
    assert.deepEqual(tags.tags, ['v1']);
    // a registry front that serves reads but refuses writes
    const front = await server(async (q, res) => {
      if (q.method !== 'GET' && q.method !== 'HEAD') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('storage is read-only');
        return;
      }
      const r = await fetch(`${plain!.url}${q.url}`, {
        method: q.method,
        headers: { accept: String(q.headers.accept ?? '*/*') },
      });
      const headers: Record<string, string> = {};
      r.headers.forEach((v, k) => (headers[k] = v));
      res.writeHead(r.status, headers);
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    try {
      const ref = `${front.host}/fail/app@${img.digest}`;
      const s = await run([...signKey, '--bundle', 'after-log.json', ref]);
      assert.equal(s.status, 1);
      assert.match(
        oneError(s.stderr),
        /the transparency log entry \(index \d+\) was made, but pushing the signature to .*fail\/app failed: .*HTTP 500/,
      );
      const b = JSON.parse(fs.readFileSync(path.join(dir, 'after-log.json'), 'utf8'));
      assert.equal(b.verificationMaterial.tlogEntries.length, 1);
    } finally {
      await front.close();
    }
  },
);

test(
  'a Bearer token registry: challenge, token with basic credentials, 429 retried, blob redirect without the credentials',
  opts,
  async () => {
    const img = pushImage(plain!, 'bearer/app');
    let throttled = 0;
    const storageAuth: string[] = [];
    const front = await server(async (q, res) => {
      const url = q.url ?? '';
      if (url.startsWith('/token')) {
        const ok =
          q.headers.authorization === `Basic ${Buffer.from('ci:s3cret').toString('base64')}`;
        const scope = new URL(url, 'http://x').searchParams.get('scope');
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(ok ? { token: `good ${scope}` } : { errors: [{ code: 'UNAUTHORIZED' }] }),
        );
        return;
      }
      if (url.startsWith('/storage/')) {
        storageAuth.push(String(q.headers.authorization ?? ''));
        const r = await fetch(`${plain!.url}${url.slice('/storage'.length)}`);
        res.writeHead(r.status, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.from(await r.arrayBuffer()));
        return;
      }
      if (
        !String(q.headers.authorization ?? '').startsWith('Bearer good repository:bearer/app:pull')
      ) {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="http://${front.host}/token",service="signet-test",scope="repository:bearer/app:pull"`,
          'content-type': 'application/json',
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      if (url.includes('/manifests/') && throttled++ === 0) {
        res.writeHead(429, { 'retry-after': '0' });
        res.end();
        return;
      }
      if (url.includes('/blobs/')) {
        // to another host name of this server: the token must not follow
        res.writeHead(307, {
          location: `http://localhost:${front.host.split(':')[1]}/storage${url}`,
        });
        res.end();
        return;
      }
      const r = await fetch(`${plain!.url}${url}`, {
        method: q.method,
        headers: { accept: String(q.headers.accept ?? '*/*') },
      });
      const headers: Record<string, string> = {};
      r.headers.forEach((v, k) => (headers[k] = v));
      res.writeHead(r.status, headers);
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    try {
      // signed in the registry directly, verified through the token front
      assert.equal((await run([...signKey, img.ref])).status, 0);
      const ref = `${front.host}/bearer/app@${img.digest}`;
      const anon = await run([...verifyKey, ref]);
      assert.match(oneError(anon.stderr), /requires authentication .* no credentials were found/);
      const v = await run([
        ...verifyKey,
        '--registry-username',
        'ci',
        '--registry-password',
        's3cret',
        ref,
      ]);
      assert.equal(v.status, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).valid, 1);
      assert.ok(throttled >= 2, 'the 429 was answered by a retry');
      assert.ok(storageAuth.length > 0, 'the blob came through the redirect');
      assert.deepEqual(
        new Set(storageAuth),
        new Set(['']),
        'no credentials sent to the storage host',
      );
    } finally {
      await front.close();
    }
  },
);

/** A registry front serving fixed manifests and blobs by path; everything else 404. */
function fixedRegistry(files: Record<string, { type: string; body: Buffer | string }>) {
  return server((q, res) => {
    const f = files[(q.url ?? '').split('?')[0]!];
    if (!f) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NOT_FOUND"}]}');
      return;
    }
    const body = Buffer.from(f.body);
    res.writeHead(200, { 'content-type': f.type, 'content-length': String(body.length) });
    res.end(q.method === 'HEAD' ? undefined : body);
  });
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

test(
  'a malformed index, and signatures whose blobs are over the size limit: named, skipped',
  opts,
  async () => {
    const config = '{}';
    const image = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: 2,
      },
      layers: [],
    });
    const imageDigest = sha(image);
    const hex = imageDigest.slice('sha256:'.length);
    const huge = 200 * 1024 * 1024; // over the 128 MiB limit for a signature or attestation blob
    const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    const referrer = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: BUNDLE,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha('{}'), size: 2 },
      layers: [{ mediaType: BUNDLE, digest: `sha256:${'cd'.repeat(32)}`, size: huge }],
      subject: { mediaType: OCI_MANIFEST, digest: imageDigest, size: image.length },
    });
    const tagIndex = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: sha(referrer),
          size: referrer.length,
          artifactType: BUNDLE,
        },
      ],
    });
    const sig = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('{}'), size: 2 },
      layers: [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          digest: `sha256:${'ef'.repeat(32)}`,
          size: huge,
          annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' },
        },
      ],
    });
    const fake = await fixedRegistry({
      '/v2/x/y/manifests/v1': { type: OCI_MANIFEST, body: image },
      [`/v2/x/y/manifests/${imageDigest}`]: { type: OCI_MANIFEST, body: image },
      [`/v2/x/y/manifests/sha256-${hex}`]: { type: OCI_INDEX, body: tagIndex },
      [`/v2/x/y/manifests/${sha(referrer)}`]: { type: OCI_MANIFEST, body: referrer },
      [`/v2/x/y/manifests/sha256-${hex}.sig`]: { type: OCI_MANIFEST, body: sig },
      '/v2/x/idx/manifests/v1': {
        type: OCI_INDEX,
        body: JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: 'all of them' }),
      },
    });
    try {
      const idx = await run([...verifyKey, `${fake.host}/x/idx:v1`]);
      assert.equal(idx.status, 1);
      assert.match(oneError(idx.stderr), /x\/idx:v1.*manifests: must be an array/);
      const v = await run([...verifyKey, `${fake.host}/x/y:v1`]);
      assert.equal(v.status, 12, v.stderr); // found, none valid
      const limit = `more than the ${128 * 1024 * 1024} byte limit`;
      // found and named, never fetched: the reasons are in the one error line
      const line = oneError(v.stderr);
      assert.match(line, /x\/y:v1: no matching signatures: 2 found, 0 tried, 0 valid/);
      assert.ok(
        line.includes(`referrer ${sha(referrer)}: its bundle is ${huge} bytes, ${limit}`),
        line,
      );
      assert.ok(
        line.includes(`tag sha256-${hex}.sig layer 1: its payload is ${huge} bytes, ${limit}`),
        line,
      );
    } finally {
      await fake.close();
    }
  },
);

test(
  'copy from a registry serving a layer whose bytes do not match its digest: refused, nothing stored',
  opts,
  async () => {
    const config = '{"architecture":"amd64","os":"linux"}';
    const layer = Buffer.alloc(300 * 1024, 7);
    const served = Buffer.from(layer);
    served[served.length - 1] = 8; // same size, one byte off: only the digest can tell
    const image = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: sha(layer),
          size: layer.length,
        },
      ],
    });
    const fake = await fixedRegistry({
      '/v2/x/y/manifests/v1': { type: OCI_MANIFEST, body: image },
      [`/v2/x/y/manifests/${sha(image)}`]: { type: OCI_MANIFEST, body: image },
      [`/v2/x/y/blobs/${sha(config)}`]: { type: 'application/octet-stream', body: config },
      [`/v2/x/y/blobs/${sha(layer)}`]: { type: 'application/octet-stream', body: served },
    });
    try {
      const c = await run(['copy', `${fake.host}/x/y:v1`, `${plain!.host}/copied/bad:v1`]);
      assert.equal(c.status, 12, c.stderr); // DIGEST_MISMATCH: cosign's exit code for a failed check
      assert.match(
        oneError(c.stderr),
        new RegExp(`blob ${sha(layer)} from ${fake.host}/x/y: its bytes do not match its digest`),
      );
      const blob = await fetch(`${plain!.url}/v2/copied/bad/blobs/${sha(layer)}`, {
        method: 'HEAD',
      });
      assert.equal(blob.status, 404);
      const man = await fetch(`${plain!.url}/v2/copied/bad/manifests/v1`, { method: 'HEAD' });
      assert.equal(man.status, 404);
    } finally {
      await fake.close();
    }
  },
);

test(
  'a registry serving large signature candidates beside the real one: what is held is bounded, the real one still verifies',
  opts,
  async () => {
    const img = pushImage(plain!, 'budget/app');
    const s = await run([...signKey, img.ref]);
    assert.equal(s.status, 0, s.stderr);
    // Beside the real signature (a referrer), a .sig tag of 10 layers naming one junk payload
    // of 40 MiB: held whole, 400 MiB; within the image's 64 MiB budget, one of them.
    const junk = Buffer.alloc(40 * 1024 * 1024, 0x20);
    const junkDigest = sha(junk);
    const sigTag = `sha256-${img.digest.slice('sha256:'.length)}.sig`;
    const sig = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('{}'), size: 2 },
      layers: Array.from({ length: 10 }, () => ({
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        digest: junkDigest,
        size: junk.length,
        annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' },
      })),
    });
    let junkServed = 0;
    const front = await server(async (q, res) => {
      const url = q.url ?? '';
      if (url === `/v2/budget/app/blobs/${junkDigest}`) {
        junkServed++;
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': String(junk.length),
        });
        res.end(junk);
        return;
      }
      const r = await fetch(`${plain!.url}${url}`, {
        headers: { accept: String(q.headers.accept ?? '*/*') },
        redirect: 'manual',
      });
      if (url === `/v2/budget/app/manifests/${sigTag}`) {
        res.writeHead(200, { 'content-type': OCI_MANIFEST });
        res.end(sig);
        return;
      }
      const body = Buffer.from(await r.arrayBuffer());
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? '' });
      res.end(body);
    });
    try {
      const ref = `${front.host}/budget/app@${img.digest}`;
      const v = await runWithPeak([...verifyKey, '-o', 'json', ref]);
      assert.equal(v.status, 0, v.stderr);
      // 400 MiB when every candidate was held until all were read.
      assert.ok(v.peakKiB < 300 * 1024, `verify peaked at ${(v.peakKiB / 1024).toFixed(0)} MiB`);
      const out = JSON.parse(v.stdout);
      assert.equal(out.valid, 1);
      assert.equal(out.found, 11);
      assert.equal(junkServed, 1, 'only what fits in the budget is fetched');
      const over = out.rejected.filter((x: { reason: string }) =>
        x.reason.includes(`more than the ${64 * 1024 * 1024} bytes read of an image's signatures`),
      );
      assert.equal(over.length, 9, JSON.stringify(out.rejected));
      assert.match(
        over[0].reason,
        new RegExp(
          `its payload is ${junk.length} bytes, and with the ${junk.length} bytes of those read before it more than`,
        ),
      );
    } finally {
      await front.close();
    }
  },
);

/** A signet run with its peak memory (test/helpers/peak-rss.ts); not blocking: fronts answer it. */
async function runWithPeak(args: string[]) {
  const child = spawn(...signetWithPeak(args), {
    cwd: dir,
    env: { ...process.env, DOCKER_CONFIG: emptyDocker, COSIGN_PASSWORD: 'pw' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((r) => child.on('close', r));
  return { status, stdout, stderr, peakKiB: peakRssKiB(stderr) };
}
