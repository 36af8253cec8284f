// `signet attest` / `verify-attestation` against Debian's docker-registry and a stack: cosign's
// type names and any URI, --statement, both storage schemes, and a many-MiB SBOM that goes to
// the registry whole while the log gets only the digest of what was signed.
import { test } from 'node:test';
import { imageTestbed } from '../helpers/image-testbed.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { stackToken } from '../helpers/stack.ts';
import { inspectRaw, pushImage } from '../helpers/registry.ts';
import { oneError, verifyWithSigstoreJs } from '../interop/sign-helpers.ts';

const { stack, reg, dir, run, identity, issuer, who, keyed, byKey, opts } =
  await imageTestbed('signet-attest-');
fs.writeFileSync(
  path.join(dir, 'prov.json'),
  JSON.stringify({ buildDefinition: { buildType: 'https://example.com/build' }, runDetails: {} }),
);

test(
  'attest keyless --type slsaprovenance1, then verify-attestation --type prints the statement',
  opts,
  async () => {
    const img = pushImage(reg!, 'att/slsa');
    const token = await stackToken(stack.url, identity);
    const a = await run([
      'attest',
      '--server',
      stack.url,
      '--identity-token',
      token,
      '--rekor-version',
      '1',
      '--type',
      'slsaprovenance1',
      '--predicate',
      'prov.json',
      img.ref,
    ]);
    assert.equal(a.status, 0, a.stderr);
    const hex = img.digest.slice(7);
    const idx = inspectRaw(reg!, `att/slsa:sha256-${hex}`) as {
      manifests: Array<{ annotations: Record<string, string> }>;
    };
    assert.equal(
      idx.manifests[0]!.annotations['dev.sigstore.bundle.predicateType'],
      'https://slsa.dev/provenance/v1',
    );
    const v = await run(['verify-attestation', ...who, '--type', 'slsaprovenance1', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    const r = JSON.parse(v.stdout);
    assert.equal(r.valid, 1);
    const st = r.verified[0].statement;
    assert.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(st.subject[0], { name: `${reg!.host}/att/slsa`, digest: { sha256: hex } });
    assert.deepEqual(st.predicate.buildDefinition, { buildType: 'https://example.com/build' });
    // another type is not a match (exit 12), and a signature is not an attestation
    const other = await run(['verify-attestation', ...who, '--type', 'spdxjson', img.ref]);
    assert.equal(other.status, 12, other.stderr);
    assert.match(
      other.stderr,
      /predicate type is "https:\/\/slsa.dev\/provenance\/v1", expected "https:\/\/spdx.dev\/Document"/,
    );
    const sigs = await run(['verify', ...who, img.ref]);
    assert.equal(sigs.status, 10, sigs.stderr);
  },
);

test(
  'attest --key with any URI type, legacy .att, and --statement about another image is refused',
  opts,
  async () => {
    const img = pushImage(reg!, 'att/legacy');
    const type = 'https://example.com/custom-predicate/v7';
    const a = await run([
      'attest',
      ...keyed,
      '--registry-referrers-mode',
      'legacy',
      '--type',
      type,
      '--predicate',
      'prov.json',
      img.ref,
    ]);
    assert.equal(a.status, 0, a.stderr);
    const att = inspectRaw(reg!, `att/legacy:sha256-${img.digest.slice(7)}.att`) as {
      layers: Array<{ mediaType: string; annotations: Record<string, string> }>;
    };
    assert.equal(att.layers[0]!.mediaType, 'application/vnd.dsse.envelope.v1+json');
    assert.equal(att.layers[0]!.annotations.predicateType, type);
    const v = await run([
      'verify-attestation',
      '--key',
      'cosign.pub',
      '--trusted-root',
      'root.json',
      '--type',
      type,
      '-o',
      'text',
      img.ref,
    ]);
    assert.equal(v.status, 0, v.stderr);
    assert.match(
      v.stdout,
      new RegExp(`attestation ${type.replace(/[./]/g, '\\$&')} by the given public key`),
    );
    const stmt = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x', digest: { sha256: '0'.repeat(64) } }],
      predicateType: type,
      predicate: {},
    };
    fs.writeFileSync(path.join(dir, 'stmt.json'), JSON.stringify(stmt));
    const bad = await run([
      'attest',
      '--key',
      'cosign.key',
      '--server',
      stack.url,
      '--statement',
      'stmt.json',
      img.ref,
    ]);
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /--statement: no subject of the statement has the digest of the image/,
    );
  },
);

test(
  'a 6 MiB SBOM attestation (Rekor v1, 4 MiB request limit): the registry gets it whole, the log the digest; sigstore-js verifies it',
  opts,
  async () => {
    const img = pushImage(reg!, 'att/sbom');
    const packages = Array.from({ length: 60_000 }, (_, i) => ({
      SPDXID: `SPDXRef-Package-${i}`,
      name: `package-${i}`,
      versionInfo: `1.${i}.0`,
      downloadLocation: 'NOASSERTION',
      licenseConcluded: 'Apache-2.0',
    }));
    fs.writeFileSync(
      path.join(dir, 'sbom.json'),
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        SPDXID: 'SPDXRef-DOCUMENT',
        name: 'big',
        packages,
      }),
    );
    assert.ok(fs.statSync(path.join(dir, 'sbom.json')).size > 6 * 1024 * 1024);
    const token = await stackToken(stack.url, identity);
    const a = await run([
      'attest',
      '--server',
      stack.url,
      '--identity-token',
      token,
      '--rekor-version',
      '1',
      '--type',
      'spdxjson',
      '--predicate',
      'sbom.json',
      '--bundle',
      'sbom.bundle.json',
      img.ref,
    ]);
    assert.equal(a.status, 0, a.stderr);
    const bundle = fs.readFileSync(path.join(dir, 'sbom.bundle.json'), 'utf8');
    const b = JSON.parse(bundle);
    assert.deepEqual(b.verificationMaterial.tlogEntries[0].kindVersion, {
      kind: 'hashedrekord',
      version: '0.0.1',
    });
    await verifyWithSigstoreJs(stack.url, bundle, { identity, issuer });
    const v = await run(['verify-attestation', ...who, '--type', 'spdxjson', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(JSON.parse(v.stdout).verified[0].statement.predicate.packages.length, 60_000);
  },
);

test(
  'attest and verify-attestation with several images: one certificate, a statement about each, each verified',
  opts,
  async () => {
    const a = pushImage(reg!, 'att/many-a');
    const b = pushImage(reg!, 'att/many-b');
    const token = await stackToken(stack.url, identity);
    const args = ['attest', '--server', stack.url, '--identity-token', token];
    const s = await run([
      ...args,
      '--type',
      'slsaprovenance1',
      '--predicate',
      'prov.json',
      a.ref,
      b.ref,
    ]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal((s.stderr.match(/^signing certificate issued by /gm) ?? []).length, 1, s.stderr);
    assert.equal((s.stderr.match(/^Pushing attestation to: /gm) ?? []).length, 2, s.stderr);
    const v = await run(['verify-attestation', ...who, '--type', 'slsaprovenance1', a.ref, b.ref]);
    assert.equal(v.status, 0, v.stderr);
    // one JSON report per image on stdout, each with the statement about that image
    const reports = v.stdout.split(/\n(?=\{)/).map(
      (t) =>
        JSON.parse(t) as {
          verified: Array<{ statement: { subject: Array<{ digest: { sha256: string } }> } }>;
        },
    );
    assert.deepEqual(
      reports.map((r) => r.verified[0]!.statement.subject[0]!.digest.sha256),
      [a, b].map((img) => img.digest.slice(7)),
    );
    // a --statement about one image cannot attest to another: refused before anything is signed
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'a', digest: { sha256: a.digest.slice(7) } }],
      predicateType: 'https://example.com/p',
      predicate: {},
    };
    fs.writeFileSync(path.join(dir, 'only-a.json'), JSON.stringify(statement));
    const treeSize = async () =>
      ((await (await fetch(`${stack.url}/rekor/api/v1/log`)).json()) as { treeSize: number })
        .treeSize;
    const before = await treeSize();
    const refused = await run([...args, '--statement', 'only-a.json', a.ref, b.ref]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `^error: --statement: no subject of the statement has the digest of the image \\(${b.digest}\\)`,
        'm',
      ),
    );
    assert.equal(await treeSize(), before, 'nothing logged');
    const bundle = await run([
      ...args,
      '--predicate',
      'prov.json',
      '--bundle',
      'x.json',
      a.ref,
      b.ref,
    ]);
    assert.equal(bundle.status, 1);
    assert.match(
      bundle.stderr,
      /^error: --bundle: writes one file; with 2 images the attestations go to the registry$/m,
    );
  },
);

test(
  "cosign attest's flags: --replace on the .att tag, --no-upload, --rekor-entry-type, --record-creation-timestamp",
  opts,
  async () => {
    const img = pushImage(reg!, 'att/replace');
    const hex = img.digest.slice('sha256:'.length);
    fs.writeFileSync(path.join(dir, 'v1.json'), '{"v":1}');
    fs.writeFileSync(path.join(dir, 'v2.json'), '{"v":2}');
    const legacy = ['--registry-referrers-mode', 'legacy'];
    const attest = (type: string, predicate: string, extra: string[] = []) =>
      run([
        'attest',
        ...keyed,
        ...legacy,
        '--type',
        type,
        '--predicate',
        predicate,
        ...extra,
        img.ref,
      ]);
    const layers = () =>
      (
        inspectRaw(reg!, `att/replace:sha256-${hex}.att`) as {
          layers: Array<{ annotations: Record<string, string> }>;
        }
      ).layers.map((l) => l.annotations.predicateType);
    for (const [type, pred] of [
      ['https://example.com/a', 'v1.json'],
      ['https://example.com/a', 'v2.json'],
      ['https://example.com/b', 'v1.json'],
    ] as const) {
      const a = await attest(type, pred);
      assert.equal(a.status, 0, a.stderr);
    }
    assert.deepEqual(layers(), [
      'https://example.com/a',
      'https://example.com/a',
      'https://example.com/b',
    ]);
    // --replace: both of type a go, b stays, the new one is added.
    const r = await attest('https://example.com/a', 'v2.json', [
      '--replace',
      '--record-creation-timestamp',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^Flag --record-creation-timestamp has been deprecated/m);
    assert.deepEqual(layers(), ['https://example.com/b', 'https://example.com/a']);
    const v = await run([
      'verify-attestation',
      ...byKey,
      '--type',
      'https://example.com/a',
      img.ref,
    ]);
    assert.equal(v.status, 0, v.stderr);
    const statements = JSON.parse(v.stdout) as {
      verified: Array<{ statement: { predicate: unknown } }>;
    };
    assert.deepEqual(
      statements.verified.map((x) => x.statement.predicate),
      [{ v: 2 }],
    );
    // The .att image records when it was written.
    const man = inspectRaw(reg!, `att/replace:sha256-${hex}.att`) as {
      config: { digest: string };
    };
    const config = (await (
      await fetch(`${reg!.url}/v2/att/replace/blobs/${man.config.digest}`)
    ).json()) as { created: string };
    assert.match(config.created, /^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(config.created) - Date.now()) < 120_000, config.created);

    // --replace with referrers: said to have no effect, and the attestation is added.
    const ref = await run([
      'attest',
      ...keyed,
      '--type',
      'https://example.com/a',
      '--predicate',
      'v1.json',
      '--replace',
      img.ref,
    ]);
    assert.equal(ref.status, 0, ref.stderr);
    assert.match(ref.stderr, /^warning: --replace has no effect on OCI 1.1 referrers/m);

    // --no-upload: the bundle only, the registry untouched.
    const before = layers();
    const nu = await attest('https://example.com/c', 'v1.json', [
      '--no-upload',
      '--bundle',
      'nu-att.json',
    ]);
    assert.equal(nu.status, 0, nu.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'nu-att.json')));
    assert.deepEqual(layers(), before);
    const nb = await attest('https://example.com/c', 'v1.json', ['--no-upload']);
    assert.equal(nb.status, 1);
    assert.match(oneError(nb.stderr), /--upload: false needs --bundle FILE/);

    for (const [value, message] of [
      ['intoto', /--rekor-entry-type: intoto entries are not written/],
      ['x', /--rekor-entry-type: "x" is not dsse or intoto/],
    ] as const) {
      const e = await attest('https://example.com/c', 'v1.json', ['--rekor-entry-type', value]);
      assert.equal(e.status, 1, e.stderr);
      assert.match(oneError(e.stderr), message);
    }
    assert.deepEqual(layers(), before);
  },
);
