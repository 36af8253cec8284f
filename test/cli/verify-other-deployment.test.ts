// Verifying a bundle of another deployment against a stack's trusted root (`--server`,
// `--trusted-root`, the library's verify) fails as before, with cosign's exit code 12 and one
// line that says the bundle is from a deployment the trusted root does not cover, naming its CA,
// log and timestamp authority: public-good bundles against a stack, and one stack's bundle
// against another stack, whose CA, log and TSA are named alike. Without --server or
// --trusted-root the line also names the default trusted root it used, and what to give instead.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { identityPolicy, parseTrustedRootJSON, SignetError, verify } from '../../src/index.ts';
import { requireServices, stackToken, tempStack } from '../helpers/stack.ts';
import { oneError, signet } from '../interop/sign-helpers.ts';
import { freePort } from '../helpers/ports.ts';

const C = path.resolve('test/fixtures/conformance/bundle-verify');
const artifact = path.join(C, 'a.txt');
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const beacon = ['--certificate-identity', SAN, '--certificate-oidc-issuer', ISS];
const PROD_LOG = 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d';

const home = await tempStack();
const away = await tempStack();
after(async () => {
  await home.close();
  await away.close();
});
await requireServices(home.url, ['oidc', 'ca', 'rekor', 'tsa']);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-other-deployment-'));
const rootText = await (await fetch(`${home.url}/trusted_root.json`)).text();
const rootFile = path.join(dir, 'home_trusted_root.json');
fs.writeFileSync(rootFile, rootText);
const homeLogs = (JSON.parse(rootText) as { tlogs: Array<{ baseUrl: string }> }).tlogs
  .map((t) => t.baseUrl)
  .join(', ');

const PUBLIC_GOOD = `the bundle is from a deployment the trusted root does not cover: its certificate was issued by "CN=sigstore-intermediate, O=sigstore.dev", which no certificate authority in the trusted root ("CN=signet-intermediate, O=signet") matches; its transparency log "rekor.sigstore.dev - 2605736670972794746" (log ID ${PROD_LOG}) is not in it either`;

test("the library's verify: a public-good bundle against a stack's trusted root", async () => {
  await assert.rejects(
    verify(
      fs.readFileSync(path.join(C, 'happy-path-v0.3/bundle.sigstore.json'), 'utf8'),
      fs.readFileSync(artifact),
      {
        trustedRoot: parseTrustedRootJSON(rootText),
        policy: identityPolicy({ identity: SAN, issuer: ISS }),
      },
    ),
    (e: unknown) =>
      e instanceof SignetError &&
      e.kind === 'verification' &&
      e.code === 'OTHER_DEPLOYMENT' &&
      e.message === PUBLIC_GOOD,
  );
});

test('verify-blob --server and --trusted-root: public-good bundles, exit 12 and one line naming what they were made with', async () => {
  const happy = path.join(C, 'happy-path-v0.3/bundle.sigstore.json');
  for (const trust of [
    ['--server', home.url],
    ['--trusted-root', rootFile],
  ]) {
    const r = await signet(['verify-blob', '--bundle', happy, ...beacon, ...trust, artifact], {
      cwd: dir,
    });
    assert.equal(r.status, 12, r.stderr);
    assert.equal(oneError(r.stderr), `error: ${PUBLIC_GOOD}`);
  }
  // With a timestamp (staging): the timestamp authority is named too, not blamed alone.
  const r2 = await signet(
    [
      'verify-blob',
      '--bundle',
      path.join(C, 'rekor2-happy-path/bundle.sigstore.json'),
      ...beacon,
      '--trusted-root',
      rootFile,
      artifact,
    ],
    { cwd: dir },
  );
  assert.equal(r2.status, 12, r2.stderr);
  assert.match(
    oneError(r2.stderr),
    /^error: the bundle is from a deployment the trusted root does not cover: .* and timestamp authority "CN=sigstore-tsa, O=sigstore\.dev" are not in it either$/,
  );
  // A key-signed bundle: its log and TSA; asked for an identity, it still has no certificate (13).
  const keyed = path.join(C, 'managed-key-happy-path');
  const byKey = ['--bundle', path.join(keyed, 'bundle.sigstore.json'), '--trusted-root', rootFile];
  const k = await signet(
    ['verify-blob', ...byKey, '--key', path.join(keyed, 'key.pub'), artifact],
    { cwd: dir },
  );
  assert.equal(k.status, 12, k.stderr);
  assert.equal(
    oneError(k.stderr),
    `error: the bundle is from a deployment the trusted root does not cover: its transparency log "rekor.sigstore.dev - 1193050959916656506" (log ID ${PROD_LOG}) is not one of the trusted root's transparency logs (${homeLogs}); its timestamp authority (certificate serial 3a13542f0c9061eebcc1432fcb8a8e8b2a238b0c issued by "CN=sigstore-tsa-selfsigned, O=sigstore.dev") is not in it either`,
  );
  const id = await signet(['verify-blob', ...byKey, ...beacon, artifact], { cwd: dir });
  assert.equal(id.status, 13, id.stderr);
});

/** A file signed keyless through the stack at `url`, and its bundle beside it. */
async function signedAt(url: string, name: string): Promise<{ file: string; bundle: string }> {
  const file = path.join(dir, `${name}.txt`);
  fs.writeFileSync(file, `signed ${name}\n`);
  const bundle = path.join(dir, `${name}.sigstore.json`);
  const s = await signet(
    [
      'sign-blob',
      '--server',
      url,
      '--identity-token',
      await stackToken(url),
      '--bundle',
      bundle,
      file,
    ],
    { cwd: dir },
  );
  assert.equal(s.status, 0, s.stderr);
  return { file, bundle };
}

test("one stack's bundle against another stack: the CA of the same name is said not to have signed it", async () => {
  const { file, bundle } = await signedAt(away.url, 'away');
  const identity = ['--certificate-identity', 'dev@signet.local'];
  const issuer = ['--certificate-oidc-issuer', `${away.url}/oidc`];
  const check = (server: string) =>
    signet(['verify-blob', '--bundle', bundle, ...identity, ...issuer, '--server', server, file], {
      cwd: dir,
    });
  const ok = await check(away.url);
  assert.equal(ok.status, 0, ok.stderr);
  const r = await check(home.url);
  assert.equal(r.status, 12, r.stderr);
  const origin = new URL(away.url).host;
  assert.match(
    oneError(r.stderr),
    new RegExp(
      `^error: the bundle is from a deployment the trusted root does not cover: its certificate was issued by "CN=signet-intermediate, O=signet", which no certificate authority in the trusted root \\("CN=signet-intermediate, O=signet"\\) matches: the one of that name did not sign it; its transparency log "${origin}/rekor[^"]*" \\(log ID [0-9a-f]{64}\\) and timestamp authority "CN=signet-tsa[^"]*" are not in it either$`,
    ),
  );
  // inspect --trusted-root gives the certificate a verdict too: the CA's name alone is the
  // home stack's, so without one the bundle would read as if from it.
  const inspect = (root: string, b: string) =>
    signet(['inspect', '--trusted-root', root, b], { cwd: dir });
  const cert = /^Certificate: +(.*)$/m;
  const there = await inspect(rootFile, bundle);
  assert.equal(there.status, 0, there.stderr);
  assert.match(
    cert.exec(there.stdout)![1]!,
    /^issued by CN=signet-intermediate, O=signet, valid \S+ to \S+ \(NOT issued by any CA of the trusted root: the CA of that name in it did not sign it \(another deployment, an altered certificate, or a CA rotated after this trusted root was taken\)\)$/,
  );
  fs.writeFileSync(
    path.join(dir, 'away_trusted_root.json'),
    await (await fetch(`${away.url}/trusted_root.json`)).text(),
  );
  const own = await inspect(path.join(dir, 'away_trusted_root.json'), bundle);
  assert.match(cert.exec(own.stdout)![1]!, / \(issued by a CA of the trusted root\)$/);
  const publicGood = await inspect(rootFile, path.join(C, 'happy-path-v0.3/bundle.sigstore.json'));
  assert.match(
    cert.exec(publicGood.stdout)![1]!,
    /^issued by CN=sigstore-intermediate, O=sigstore\.dev, valid \S+ to \S+ \(NOT issued by any CA of the trusted root\)$/,
  );
});

test('without --server or --trusted-root: the default trusted root is named, and what to give instead', async () => {
  const { file, bundle } = await signedAt(home.url, 'home');
  const check = (env: Record<string, string>) =>
    signet(
      [
        'verify-blob',
        '--bundle',
        bundle,
        '--certificate-identity',
        'dev@signet.local',
        '--certificate-oidc-issuer',
        `${home.url}/oidc`,
        file,
      ],
      { cwd: dir, env: { SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(dir, 'tuf-')), ...env } },
    );
  const other = `^error: the bundle is from a deployment the trusted root does not cover: its certificate was issued by "CN=signet-intermediate, O=signet", which .* are not in it either; `;
  // Public-good's repository (a mirror of it: TUF_MIRROR alone) does not answer: the trusted
  // root shipped with Signet stands in, and the failure says so.
  const mirror = `http://127.0.0.1:${await freePort()}`;
  const offline = await check({ TUF_MIRROR: mirror });
  assert.equal(offline.status, 12, offline.stderr);
  assert.match(
    oneError(offline.stderr),
    new RegExp(
      `${other}no --server or --trusted-root was given, so the trusted root was the default, Sigstore public-good's as shipped with Signet, which may be out of date \\(the TUF repository ${mirror} did not answer\\): give --server URL \\(the deployment that made it\\) or --trusted-root FILE$`,
    ),
  );
  // The default repository another one (TUF_MIRROR with its root, as signet initialize sets).
  const awayRoot = path.join(dir, 'away-1.root.json');
  fs.writeFileSync(awayRoot, await (await fetch(`${away.url}/tuf/1.root.json`)).text());
  const elsewhere = await check({ TUF_MIRROR: `${away.url}/tuf`, TUF_ROOT_JSON: awayRoot });
  assert.equal(elsewhere.status, 12, elsewhere.stderr);
  assert.match(
    oneError(elsewhere.stderr),
    new RegExp(
      `${other}no --server or --trusted-root was given, so the trusted root was the default, from the TUF repository ${away.url}/tuf: give --server URL \\(the deployment that made it\\) or --trusted-root FILE$`,
    ),
  );
  // Named trust is the user's choice: nothing is added.
  const named = await check({ SIGNET_SERVER: away.url });
  assert.equal(named.status, 12, named.stderr);
  assert.match(oneError(named.stderr), /are not in it either$/);
});
