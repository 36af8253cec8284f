/**
 * `signet verify-commit-attestation` against a whole stack on loopback, with Debian's git: what
 * `signet-gitsign attest` keeps on refs/attestations/commits (or trees) verifies, signer, log
 * entry and subject; an attestation that is not about this commit, not of the type asked for,
 * not by the identity asked for, or changed after it was made, does not; and one that is
 * missing fails with cosign's "no signature" code. gitsign's own form (an intoto entry) and a
 * bundle kept in the `.sig` verify too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack, stackToken } from '../helpers/stack.ts';
import { agentRequest } from '../../src/client/git/agent.ts';
import { gitStatement, storeAttestation } from '../../src/client/git/attest.ts';
import { setupSigning, signEnvelope, type SignContext } from '../../src/client/sign/index.ts';
import { bundleToJSON } from '../../src/bundle/bundle.ts';
import { envelopeToJSON } from '../../src/core/dsse/index.ts';
import { INTOTO_PAYLOAD_TYPE } from '../../src/core/intoto/index.ts';
import { pae } from '../../src/core/dsse/index.ts';
import { cosigner, formatCosignerKey } from '../../src/core/note/cosignature.ts';
import { gitWorld, must, PROGRAM, run } from './helpers.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
let token: string;
let repo: string;
let head: string;
let tree: string;
let ID: string[];
const world = gitWorld();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-commit-attest-'));
const PROVENANCE = 'https://slsa.dev/provenance/v1';

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}
const provenance = file('provenance.json', '{"builder":{"id":"https://ci.example/b"}}');
const sbom = file('sbom.json', '{"packages":[]}');

const git = async (args: string[], cwd = repo, input?: string) =>
  (await must(world.git(cwd, args, {}, input))).stdout.trim();
const attest = (args: string[], cwd = repo) =>
  run(PROGRAM, ['attest', ...args], cwd, { ...world.env, SIGSTORE_ID_TOKEN: token });
const verify = (args: string[], cwd = repo) =>
  world.signet(cwd, ['verify-commit-attestation', ...args]);
const show = (spec: string) => git(['show', spec]);

/** A failure: `status`, and one line on stderr matching `message`. */
function fails(r: { status: number | null; stderr: string }, status: number, message: RegExp) {
  assert.equal(r.status, status, r.stderr);
  assert.match(r.stderr.trimEnd(), message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^error: /);
}

/**
 * Rewrites the attestation ref's newest tree as someone with push access could: `put` files
 * (path -> content) and `remove` paths, committed on top; returns a function that puts the ref
 * back.
 */
async function editRef(
  ref: string,
  put: Record<string, string>,
  remove: string[] = [],
): Promise<() => Promise<void>> {
  const was = await git(['rev-parse', ref]);
  const index = { GIT_INDEX_FILE: path.join(dir, 'edit.index') };
  const g = async (args: string[], input?: string) =>
    (await must(world.git(repo, args, index, input))).stdout.trim();
  await g(['read-tree', ref]);
  for (const [p, content] of Object.entries(put)) {
    const blob = await g(['hash-object', '-w', '--stdin'], content);
    await g(['update-index', '--add', '--cacheinfo', `100644,${blob},${p}`]);
  }
  for (const p of remove) await g(['update-index', '--force-remove', p]);
  const t = await g(['write-tree']);
  const c = await g(['commit-tree', t, '-p', was, '-m', 'edited']);
  await git(['update-ref', ref, c]);
  fs.rmSync(index.GIT_INDEX_FILE);
  return async () => void (await git(['update-ref', ref, was]));
}

/** A keyless signing context on the stack, as dev@signet.local (for gitsign's and bundle forms). */
async function signing(): Promise<SignContext> {
  const tufRoot = path.join(dir, 'root.json');
  fs.writeFileSync(tufRoot, await (await fetch(`${stack.url}/tuf/1.root.json`)).text());
  return setupSigning({
    server: stack.url,
    tufRoot,
    identityToken: token,
    tufCacheDir: path.join(dir, 'tuf'),
    interactive: 'never',
    env: {},
  });
}

before(async () => {
  stack = await tempStack();
  token = await stackToken(stack.url, 'dev@signet.local');
  ID = [
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    `${stack.url}/oidc`,
  ];
  repo = world.repo();
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
  // storeAttestation (the library, in this process) commits with the repository's identity.
  await git(['config', 'user.name', 'Dev']);
  await git(['config', 'user.email', 'dev@signet.local']);
  await must(
    world.git(repo, ['commit', '-q', '--allow-empty', '-m', 'one'], { SIGSTORE_ID_TOKEN: token }),
  );
  head = await git(['rev-parse', 'HEAD']);
  tree = await git(['rev-parse', 'HEAD^{tree}']);
});

after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000);
  await stack.close();
});

test('attest, then verify: each attestation of the type, its signer and log index; text and json', async () => {
  const a = await attest(['-f', provenance, '--type', PROVENANCE]);
  assert.equal(a.status, 0, a.stderr);
  const index = Number(/^tlog entry created with index: (\d+)$/m.exec(a.stderr)![1]);

  const r = await verify(['--type', 'slsaprovenance1', ...ID]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `^provenance\\.json: https://slsa\\.dev/provenance/v1 by dev@signet\\.local \\(issuer ${stack.url}/oidc\\) at \\S+ \\(transparency log\\).*; log index ${index} at `,
    ),
  );
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.equal(
    r.stderr,
    `Verified OK: 1 of 1 attestation of type ${PROVENANCE} about commit ${head}\n`,
  );

  const j = await verify(['--type', PROVENANCE, ...ID, '-o', 'json', 'HEAD']);
  assert.equal(j.status, 0, j.stderr);
  const report = JSON.parse(j.stdout) as {
    commit: string;
    ref: string;
    valid: number;
    verified: Array<{
      file: string;
      predicateType: string;
      signer: { identity: string[] };
      tlog: Array<{ logIndex: number; kind: string }>;
      source: string;
      statement: { subject: unknown; predicate: unknown };
    }>;
  };
  assert.equal(report.commit, head);
  assert.equal(report.ref, 'refs/attestations/commits');
  assert.equal(report.valid, 1);
  const v = report.verified[0]!;
  assert.equal(v.file, 'provenance.json');
  assert.deepEqual(v.signer.identity, ['dev@signet.local']);
  assert.deepEqual(
    v.tlog.map((t) => [t.logIndex, t.kind]),
    [[index, 'dsse 0.0.1']],
  );
  assert.equal(v.source, 'log search');
  assert.deepEqual(v.statement.subject, [{ digest: { gitCommit: head } }]);
  assert.deepEqual(v.statement.predicate, { builder: { id: 'https://ci.example/b' } });

  // The identity regexp matches the whole identity, as for every verify command.
  const re = ['--certificate-oidc-issuer', `${stack.url}/oidc`, '--type', PROVENANCE];
  const whole = await verify([...re, '--certificate-identity-regexp', 'dev@signet\\.local']);
  assert.equal(whole.status, 0, whole.stderr);
  fails(
    await verify([...re, '--certificate-identity-regexp', 'dev']),
    12,
    /^error: no matching attestations for commit [0-9a-f]{40}: 1 found, 1 of type https:\/\/slsa\.dev\/provenance\/v1, 0 valid \(provenance\.json: .*dev@signet\.local/,
  );
});

test('another identity, another issuer, another type: no matching attestation (exit 12)', async () => {
  const issuer = ['--certificate-oidc-issuer', `${stack.url}/oidc`];
  fails(
    await verify([
      '--type',
      PROVENANCE,
      '--certificate-identity',
      'mallory@signet.local',
      ...issuer,
    ]),
    12,
    /^error: no matching attestations for commit [0-9a-f]{40}: .*provenance\.json: .*mallory@signet\.local/,
  );
  fails(
    await verify([
      '--type',
      PROVENANCE,
      '--certificate-identity',
      'dev@signet.local',
      '--certificate-oidc-issuer',
      'https://accounts.example',
    ]),
    12,
    /provenance\.json: .*https:\/\/accounts\.example/,
  );
  // Another type, and no --type (custom, as cosign): the types it has are named.
  fails(
    await verify(['--type', 'spdxjson', ...ID]),
    12,
    new RegExp(
      `^error: no attestation of type https://spdx\\.dev/Document for commit ${head}: its 1 attestation is of type https://slsa\\.dev/provenance/v1$`,
    ),
  );
  fails(
    await verify(ID),
    12,
    /no attestation of type https:\/\/cosign\.sigstore\.dev\/attestation\/v1 for commit/,
  );
  // The log and certificate flags of verify-commit are taken, not dropped: a witness the
  // checkpoint lacks, a trusted root without the CT log (unless the SCT is not asked for).
  const witness = formatCosignerKey(
    cosigner('witness.example/w', generateKeyPairSync('ed25519').privateKey),
  );
  fails(
    await verify(['--type', PROVENANCE, ...ID, '--witness-key', witness]),
    12,
    /provenance\.json: the checkpoint of entry \d+: 1 cosignature is needed from the required witnesses witness\.example\/w; it has 0/,
  );
  const root = JSON.parse(await (await fetch(`${stack.url}/trusted_root.json`)).text()) as {
    ctlogs: unknown[];
  };
  root.ctlogs = [];
  const noCt = file('no-ctlog-root.json', JSON.stringify(root));
  const strict = ['--type', PROVENANCE, ...ID, '--trusted-root', noCt];
  fails(
    await verify(strict),
    12,
    /provenance\.json: the certificate's signed certificate timestamp does not verify/,
  );
  assert.equal((await verify([...strict, '--insecure-ignore-sct'])).status, 0);

  // A second attestation of another type: each type verifies its own.
  assert.equal((await attest(['-f', sbom, '--type', 'spdxjson'])).status, 0);
  const s = await verify(['--type', 'spdxjson', ...ID]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /^sbom\.json: https:\/\/spdx\.dev\/Document by dev@signet\.local /);
  assert.equal(s.stdout.trim().split('\n').length, 1);
  const p = await verify(['--type', PROVENANCE, ...ID]);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /^provenance\.json: /);
  assert.equal(p.stdout.trim().split('\n').length, 1);
});

test('an attestation moved to another commit is not about it; one changed after it was made fails', async () => {
  const ref = 'refs/attestations/commits';
  await must(
    world.git(repo, ['commit', '-q', '--allow-empty', '-m', 'two'], { SIGSTORE_ID_TOKEN: token }),
  );
  const two = await git(['rev-parse', 'HEAD']);
  const copied = {
    [`${two}/provenance.json`]: await show(`${ref}:${head}/provenance.json`),
    [`${two}/provenance.json.sig`]: await show(`${ref}:${head}/provenance.json.sig`),
  };
  let restore = await editRef(ref, copied);
  fails(
    await verify(['--type', PROVENANCE, ...ID]),
    12,
    new RegExp(
      `provenance\\.json: the attestation is not about this artifact: no subject has gitCommit digest ${two} \\(subjects: gitCommit:${head}\\)\\)$`,
    ),
  );
  await restore();
  // A commit without any: cosign's "no signature" (exit 10).
  fails(
    await verify(['--type', PROVENANCE, ...ID]),
    10,
    new RegExp(
      `^error: no attestations found for commit ${two}: refs/attestations/commits has none for it$`,
    ),
  );

  // The predicate file beside the envelope must be what was signed (its JSON value: spacing
  // may differ).
  const at = (f: string) => `${head}/${f}`;
  const ok = () => verify(['--type', PROVENANCE, ...ID, head]);
  restore = await editRef(ref, {
    [at('provenance.json')]: '{"builder":{"id":"https://evil.example"}}',
  });
  fails(
    await ok(),
    12,
    /provenance\.json: provenance\.json is not the predicate provenance\.json\.sig signed \(it changed after it was attested\)\)$/,
  );
  await restore();
  restore = await editRef(ref, {
    [at('provenance.json')]: '{ "builder": { "id": "https://ci.example/b" } }\n',
  });
  assert.equal((await ok()).status, 0);
  await restore();
  restore = await editRef(ref, {}, [at('provenance.json')]);
  fails(await ok(), 12, /provenance\.json is missing beside provenance\.json\.sig/);
  await restore();

  // The envelope: its statement changed (and the file with it), its signature changed, or
  // not an envelope at all.
  const envelope = JSON.parse(await show(`${ref}:${at('provenance.json.sig')}`)) as {
    payload: string;
    signatures: Array<{ sig: string }>;
  };
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as {
    predicate: unknown;
  };
  statement.predicate = { builder: { id: 'https://evil.example' } };
  const forged = {
    ...envelope,
    payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
  };
  restore = await editRef(ref, {
    [at('provenance.json')]: JSON.stringify(statement.predicate),
    [at('provenance.json.sig')]: JSON.stringify(forged),
  });
  fails(
    await ok(),
    12,
    /provenance\.json: the transparency log has no entry for provenance\.json\.sig's signature .*: it was never logged, or it changed since\)$/,
  );
  await restore();
  const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
  sig[sig.length - 1]! ^= 1;
  restore = await editRef(ref, {
    [at('provenance.json.sig')]: JSON.stringify({
      ...envelope,
      signatures: [{ sig: sig.toString('base64') }],
    }),
  });
  fails(
    await ok(),
    12,
    /provenance\.json: the transparency log has no entry for provenance\.json\.sig's signature/,
  );
  await restore();
  // One that cannot be read (too large) is reported; the others still verify.
  restore = await editRef(ref, { [at('huge.json.sig')]: ' '.repeat(64 * 1024 * 1024 + 1) });
  const huge = await ok();
  assert.equal(huge.status, 0, huge.stderr);
  assert.match(
    huge.stderr,
    /^warning: huge\.json: huge\.json\.sig is 67108865 bytes; at most 67108864 are read\n/,
  );
  assert.match(huge.stderr, /^Verified OK: 1 of 2 attestations of type /m);
  await restore();
  restore = await editRef(ref, { [at('provenance.json.sig')]: 'not json' });
  fails(await ok(), 12, /provenance\.json: provenance\.json\.sig: is not valid JSON/);
  await restore();
  assert.equal((await ok()).status, 0);
});

test('a tree attestation: verified as the tree, and not as a commit or another tree', async () => {
  // Back on the first commit, whose tree is `tree`.
  await git(['reset', '-q', '--hard', head]);
  const t = await attest(['--objtype', 'tree', '-f', provenance, '--type', 'custom']);
  assert.equal(t.status, 0, t.stderr);
  const r = await verify(['--objtype', 'tree', ...ID, '-o', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    tree: string;
    ref: string;
    verified: Array<{ statement: { subject: unknown } }>;
  };
  assert.equal(report.tree, tree);
  assert.equal(report.ref, 'refs/attestations/trees');
  assert.deepEqual(report.verified[0]!.statement.subject, [{ digest: { gitTree: tree } }]);
  assert.match(
    r.stderr,
    new RegExp(`^Verified OK: 1 of 1 attestation of type \\S+ about tree ${tree}\\n$`),
  );
  // As a commit: the commit's own attestations are asked for (none of type custom).
  fails(
    await verify(ID),
    12,
    /no attestation of type https:\/\/cosign\.sigstore\.dev\/attestation\/v1 for commit/,
  );

  // The commit's attestation put where the tree's are kept: its subject is a commit, not this tree.
  const trees = 'refs/attestations/trees';
  const restore = await editRef(trees, {
    [`${tree}/provenance.json`]: await show(`refs/attestations/commits:${head}/provenance.json`),
    [`${tree}/provenance.json.sig`]: await show(
      `refs/attestations/commits:${head}/provenance.json.sig`,
    ),
  });
  fails(
    await verify(['--objtype', 'tree', '--type', PROVENANCE, ...ID]),
    12,
    new RegExp(`no subject has gitTree digest ${tree} \\(subjects: gitCommit:${head}\\)`),
  );
  await restore();
  // Another tree's.
  await git(['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', 'same tree']);
  fs.writeFileSync(path.join(repo, 'a.txt'), 'a');
  await git(['add', 'a.txt']);
  await git(['commit', '-q', '--no-gpg-sign', '-m', 'other tree']);
  const other = await git(['rev-parse', 'HEAD^{tree}']);
  // A commit with the same tree shares its attestations.
  const same = await verify(['--objtype', 'tree', ...ID, 'HEAD~1']);
  assert.equal(same.status, 0, same.stderr);
  const moved = await editRef(trees, {
    [`${other}/provenance.json`]: await show(`${trees}:${tree}/provenance.json`),
    [`${other}/provenance.json.sig`]: await show(`${trees}:${tree}/provenance.json.sig`),
  });
  fails(
    await verify(['--objtype', 'tree', ...ID]),
    12,
    new RegExp(`no subject has gitTree digest ${other} \\(subjects: gitTree:${tree}\\)`),
  );
  await moved();
  await git(['reset', '-q', '--hard', head]);
});

test('a clone without the attestation ref is told to fetch it; then it verifies with --server', async () => {
  const clone = path.join(world.dir, 'clone');
  await must(world.git(world.dir, ['clone', '-q', repo, clone]));
  const args = ['--type', PROVENANCE, ...ID, '--server', stack.url];
  fails(
    await verify(args, clone),
    10,
    new RegExp(
      `^error: no attestations found for commit ${head}: this repository has no refs/attestations/commits \\(fetch it, e\\.g\\. git fetch origin 'refs/attestations/\\*:refs/attestations/\\*'\\)$`,
    ),
  );
  // As the README says (the trees' too).
  await git(['fetch', '-q', 'origin', 'refs/attestations/*:refs/attestations/*'], clone);
  await git(['rev-parse', '--verify', 'refs/attestations/trees'], clone);
  const r = await verify(args, clone);
  assert.equal(r.status, 0, r.stderr);
});

test('offline: an envelope alone cannot be verified; a bundle kept in the .sig can', async () => {
  const rootFile = path.join(dir, 'trusted_root.json');
  fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
  const offline = ['--type', PROVENANCE, ...ID, '--offline', '--trusted-root', rootFile];
  fails(
    await verify(offline),
    12,
    /provenance\.json: provenance\.json\.sig holds a DSSE envelope alone \(no certificate, no log entry\), which verifies only through the transparency log's search; the log was not searched \(offline\)\)$/,
  );
  // A bundle about this commit kept as the .sig (made through the library, signed as attest does).
  const ctx = await signing();
  const predicate = new TextEncoder().encode('{"reviewed":true}');
  const review = 'https://example.com/review/v1';
  const bundle = await signEnvelope(
    gitStatement('commit', head, review, predicate, 'predicate'),
    INTOTO_PAYLOAD_TYPE,
    ctx,
  );
  await storeAttestation(
    repo,
    'commit',
    head,
    'review.json',
    predicate,
    JSON.stringify(bundleToJSON(bundle)),
  );
  const r = await verify([
    '--type',
    review,
    ...ID,
    '--offline',
    '--trusted-root',
    rootFile,
    '-o',
    'json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { verified: Array<{ file: string; source: string }> };
  assert.deepEqual(
    report.verified.map((v) => [v.file, v.source]),
    [['review.json', 'bundle']],
  );
  // A bundle about another commit, kept under this one: not about it.
  const parentless = await git(['commit-tree', tree, '-m', 'elsewhere']);
  const elsewhere = await signEnvelope(
    gitStatement('commit', parentless, review, predicate, 'predicate'),
    INTOTO_PAYLOAD_TYPE,
    ctx,
  );
  await storeAttestation(
    repo,
    'commit',
    head,
    'review.json',
    predicate,
    JSON.stringify(bundleToJSON(elsewhere)),
  );
  fails(
    await verify(['--type', review, ...ID, '--offline', '--trusted-root', rootFile]),
    12,
    new RegExp(
      `review\\.json: the attestation is not about this artifact: no subject has gitCommit digest ${head}`,
    ),
  );
});

test("gitsign's form (an intoto entry, the envelope alone) and a large predicate (logged by digest) verify", async () => {
  const ctx = await signing();
  // gitsign attest: the statement signed in an envelope, logged as intoto 0.0.2 with the
  // certificate, and the envelope alone kept in the repository.
  const predicate = new TextEncoder().encode('{"tests":"passed"}');
  const type = 'https://example.com/tests/v1';
  const payload = gitStatement('commit', head, type, predicate, 'predicate');
  const sig = ctx.signer.sign(pae(INTOTO_PAYLOAD_TYPE, payload));
  const envelope = envelopeToJSON({
    payload,
    payloadType: INTOTO_PAYLOAD_TYPE,
    signatures: [{ keyid: '', sig }],
  });
  const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
  const logged = await fetch(`${stack.url}/rekor/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: {
        content: {
          envelope: {
            payload: b64(b64(payload)),
            payloadType: INTOTO_PAYLOAD_TYPE,
            signatures: [{ sig: b64(b64(sig)), publicKey: b64(ctx.signer.verifierPem) }],
          },
          hash: {
            algorithm: 'sha256',
            value: createHash('sha256').update(JSON.stringify(envelope)).digest('hex'),
          },
        },
      },
    }),
  });
  assert.equal(logged.status, 201, await logged.clone().text());
  await storeAttestation(repo, 'commit', head, 'tests.json', predicate, JSON.stringify(envelope));
  const r = await verify(['--type', type, ...ID, '-o', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const kinds = (
    JSON.parse(r.stdout) as { verified: Array<{ tlog: Array<{ kind: string }> }> }
  ).verified.flatMap((v) => v.tlog.map((t) => t.kind));
  assert.deepEqual(kinds, ['intoto 0.0.2']);

  // A predicate over 256 KiB: the log gets a hashedrekord over the digest of what was signed.
  const big = file('big.json', JSON.stringify({ blob: 'x'.repeat(300 * 1024) }));
  const a = await attest(['-f', big, '--type', 'https://example.com/big/v1']);
  assert.equal(a.status, 0, a.stderr);
  const b = await verify(['--type', 'https://example.com/big/v1', ...ID, '-o', 'json']);
  assert.equal(b.status, 0, b.stderr);
  const bigKinds = (
    JSON.parse(b.stdout) as { verified: Array<{ tlog: Array<{ kind: string }> }> }
  ).verified.flatMap((v) => v.tlog.map((t) => t.kind));
  assert.deepEqual(bigKinds, ['hashedrekord 0.0.1']);
});

test('a SHA-256 repository: the commit by its 64-digit ID', async () => {
  const r256 = path.join(world.dir, 'sha256');
  await must(world.git(world.dir, ['init', '-q', '--object-format=sha256', '-b', 'main', r256]));
  await must(world.signet(r256, ['git', 'setup', '--server', stack.url]));
  await must(world.git(r256, ['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', 'one']));
  const id = await git(['rev-parse', 'HEAD'], r256);
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal((await attest(['-f', provenance, '--type', PROVENANCE], r256)).status, 0);
  const r = await verify(['--type', PROVENANCE, ...ID], r256);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`about commit ${id}\\n$`));
});

test('bad input: one line naming what is wrong, exit 1', async () => {
  for (const [args, message] of [
    [['--objtype', 'blob', ...ID], /^error: --objtype: "blob" is not commit or tree$/],
    [['-o', 'yaml', ...ID], /^error: --output: "yaml" is not json or text$/],
    [['--type', 'not a uri', ...ID], /^error: --type: "not a uri" is neither/],
    [['--certificate-oidc-issuer', 'x'], /^error: --certificate-identity: is required/],
    [['nosuchrev', ...ID], /^error: revision: "nosuchrev" does not name a commit in /],
  ] as const) {
    const r = await verify([...args]);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  fails(
    await verify(ID, world.dir),
    1,
    /is not in a git repository: run signet verify-commit-attestation in the repository of the commits$/,
  );
});
