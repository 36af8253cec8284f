// A CA brought as files (ca.certChain, ca.key) is renewed by pointing the config at another
// chain and key and starting again; a stack on the built-in CA is moved to files the same way.
// As public-good Sigstore keeps its retired CAs (each with a validFor.end), the stack keeps
// every CA it issued under in its trusted root, so bundles signed before still verify: in
// Signet's verifier and in sigstore-js's, with the root from /trusted_root.json and from TUF.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { parseTrustedRootJSON } from '../../../src/bundle/index.ts';
import { fetchTrust } from '../../../src/client/tuf/index.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';
import type { IssuingCa } from '../../../src/core/x509/fulcio-profile.ts';
import { identityPolicy, verify } from '../../../src/index.ts';
import { startStack } from '../../../src/services/stack.ts';
import { freePort } from '../../helpers/ports.ts';
import { stackToken } from '../../helpers/stack.ts';
import { ca } from '../ctlog/fixtures.ts';

const quiet = { info() {}, warn() {}, error() {} };
const repo = path.resolve(import.meta.dirname, '../../..');
const signet = (...args: string[]) =>
  spawnSync(process.execPath, ['src/cli/main.ts', ...args], { cwd: repo, encoding: 'utf8' });
const identity = 'dev@signet.local';
const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');

interface Ca {
  validFor: { start: string; end?: string };
  certChain: { certificates: { rawBytes: string }[] };
}

/** An intermediate `name` under `root`, written as a config names it: chain PEM and key PEM. */
function fileCa(dir: string, name: string, root: IssuingCa) {
  const issuing = ca(name, root);
  const certChain = path.join(dir, `${name}-chain.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  fs.writeFileSync(
    certChain,
    encodePem('CERTIFICATE', issuing.certificate.der) +
      encodePem('CERTIFICATE', root.certificate.der),
  );
  fs.writeFileSync(key, issuing.key.export({ format: 'pem', type: 'pkcs8' }));
  return { config: { certChain, key }, der: b64(issuing.certificate.der) };
}

/** One stack's data folder, started on one port (issuer URLs stay) with a `ca` section or none. */
async function stackFolder() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-file-ca-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const tufRoot = path.join(dir, '1.root.json');
  const cacheDir = path.join(dir, 'tuf-cache');
  const signed: Array<{ data: Buffer; bundle: unknown }> = [];

  /** Starts the stack, signs one blob through sigstore-js's Fulcio and Rekor clients, stops. */
  async function startAndSign(caSection?: Record<string, string>) {
    const s = await startStack({
      port,
      host: '127.0.0.1',
      dataDir,
      log: quiet,
      ...(caSection ? { config: { ca: caSection } } : {}),
    });
    try {
      const rootText = await (await fetch(`${s.url}/trusted_root.json`)).text();
      if (!fs.existsSync(tufRoot))
        fs.writeFileSync(tufRoot, await (await fetch(`${s.url}/tuf/1.root.json`)).text());
      // The TUF target is the same trusted root: a client pinned on the first start follows.
      const viaTuf = await fetchTrust({ serverUrl: s.url, rootFile: tufRoot, cacheDir });
      assert.deepEqual(JSON.parse(viaTuf.trustedRootText), JSON.parse(rootText));
      const data = Buffer.from(`signed at start ${signed.length + 1}`);
      const token = await stackToken(s.url, identity);
      const builder = new MessageSignatureBundleBuilder({
        signer: new FulcioSigner({
          fulcioBaseURL: `${s.url}/fulcio`,
          identityProvider: { getToken: async () => token },
        }),
        witnesses: [new RekorWitness({ rekorBaseURL: `${s.url}/rekor` })],
      });
      signed.push({ data, bundle: bundleToJSON(await builder.create({ data })) });
      return { rootText, url: s.url };
    } finally {
      await s.close();
    }
  }
  return { dataDir, signed, startAndSign };
}

/** Both verifiers accept `bundle` over `data` with the trusted root `rootText`, or both refuse. */
async function verifies(url: string, rootText: string, bundle: unknown, data: Buffer) {
  let signet: unknown;
  try {
    await verify(bundle as object, data, {
      trustedRoot: parseTrustedRootJSON(rootText),
      policy: identityPolicy({ identity, issuer: `${url}/oidc` }),
    });
  } catch (e) {
    signet = e;
  }
  let sigstoreJs: unknown;
  try {
    new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(rootText))), {
      tlogThreshold: 1,
      ctlogThreshold: 1,
    }).verify(toSignedEntity(bundleFromJSON(bundle), data), {
      subjectAlternativeName: identity,
      extensions: { issuer: `${url}/oidc` },
    });
  } catch (e) {
    sigstoreJs = e;
  }
  assert.equal(signet === undefined, sigstoreJs === undefined, `${signet} / ${sigstoreJs}`);
  if (signet) throw signet;
}

const cas = (rootText: string) => JSON.parse(rootText).certificateAuthorities as Ca[];
const issuingDer = (c: Ca) => c.certChain.certificates[0]!.rawBytes;

/** Every window but the last is closed, the last open, each starting by the end of the one before. */
function windowsFollow(list: Ca[]) {
  list.forEach((c, i) => {
    if (i + 1 === list.length) assert.equal(c.validFor.end, undefined, `CA ${i} is current`);
    else {
      assert.ok(c.validFor.end, `CA ${i} was replaced: closed`);
      assert.ok(Date.parse(list[i + 1]!.validFor.start) <= Date.parse(c.validFor.end));
    }
  });
}

test('a CA from files renewed with another intermediate: the old chain stays in the trusted root (closed), old and new bundles verify, the same files again change nothing, rotate ca says what to do', async () => {
  const st = await stackFolder();
  const root = ca('acme-root');
  const dir = path.dirname(st.dataDir);
  const a = fileCa(dir, 'acme-A', root);
  const b = fileCa(dir, 'acme-B', root);
  await st.startAndSign(a.config);
  const { rootText, url } = await st.startAndSign(b.config);
  const list = cas(rootText);
  assert.deepEqual(list.map(issuingDer), [a.der, b.der]);
  windowsFollow(list);
  const [oldBundle, newBundle] = st.signed;
  await verifies(url, rootText, oldBundle!.bundle, oldBundle!.data);
  await verifies(url, rootText, newBundle!.bundle, newBundle!.data);
  // Without the recorded chain the bundle from before fails as it did (exit 12 in the CLI).
  const onlyB = JSON.stringify({ ...JSON.parse(rootText), certificateAuthorities: [list[1]] });
  await assert.rejects(
    verifies(url, onlyB, oldBundle!.bundle, oldBundle!.data),
    /not issued by a CA of the trusted root/,
  );

  // The same files again: the same trusted root, the record untouched.
  const record = path.join(st.dataDir, 'keys', 'ca-files', 'chains.json');
  const recorded = fs.readFileSync(record, 'utf8');
  const again = await st.startAndSign(b.config);
  assert.deepEqual(JSON.parse(again.rootText), JSON.parse(rootText));
  assert.equal(fs.readFileSync(record, 'utf8'), recorded);

  const listed = signet('rotate', '--data', st.dataDir);
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(
    listed.stdout,
    /^ca from ca\.certChain: 1 "CN=acme-A, O=acme-A" \(\S+ \.\. \S+Z\), 2 "CN=acme-B, O=acme-B" \(\S+ \.\. now\)$/m,
  );
  for (const key of ['ca', 'ca-root']) {
    const r = signet('rotate', '--data', st.dataDir, key);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `error: key: the CA of ${st.dataDir} comes from files (ca.certChain and ca.key in the stack's config), not from a key of the data folder: to renew it, point ca.certChain and ca.key at the new chain and its key and start the stack again (signet up); its trusted root keeps the chain before, so every bundle signed before still verifies\n`,
    );
  }
});

test('from the built-in CA to files and back: every CA the stack issued under stays in its trusted root, and every bundle verifies', async () => {
  const st = await stackFolder();
  const first = await st.startAndSign();
  const [ring1] = cas(first.rootText);
  const a = fileCa(path.dirname(st.dataDir), 'acme-A', ca('acme-root'));
  const { rootText, url } = await st.startAndSign(a.config);
  const list = cas(rootText);
  assert.deepEqual(list.map(issuingDer), [issuingDer(ring1!), a.der]);
  assert.equal(list[0]!.validFor.start, ring1!.validFor.start);
  windowsFollow(list);
  for (const s of st.signed) await verifies(url, rootText, s.bundle, s.data);

  // The built-in CA is listed as ended, and not in use; rotating it is refused.
  const listed = signet('rotate', '--data', st.dataDir);
  assert.match(
    listed.stdout,
    /^ca: 1 \(\S+ \.\. \S+Z\); not in use: the CA comes from ca\.certChain$/m,
  );
  assert.match(listed.stdout, /^ca from ca\.certChain: 1 "CN=acme-A, O=acme-A" \(\S+ \.\. now\)$/m);
  assert.match(signet('rotate', '--data', st.dataDir, 'ca').stderr, /comes from files/);

  // The same files again change nothing.
  const again = await st.startAndSign(a.config);
  assert.deepEqual(JSON.parse(again.rootText), JSON.parse(rootText));

  // Back to the built-in CA: a new version of its key from now; the files' chain ends then.
  const back = await st.startAndSign();
  const all = cas(back.rootText);
  assert.equal(all.length, 3);
  assert.deepEqual(all[0], list[0]);
  assert.equal(issuingDer(all[1]!), a.der);
  assert.equal(all[1]!.validFor.start, list[1]!.validFor.start);
  assert.notEqual(issuingDer(all[2]!), issuingDer(ring1!));
  windowsFollow(all);
  assert.equal(st.signed.length, 4);
  for (const s of st.signed) await verifies(back.url, back.rootText, s.bundle, s.data);
  const rotated = signet('rotate', '--data', st.dataDir, 'ca');
  assert.equal(rotated.status, 0, rotated.stderr);
});
