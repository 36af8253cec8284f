/**
 * `signet verify-commit-attestation` against a whole stack on loopback, with Debian's git: what
 * `signet-gitsign attest` keeps on refs/attestations/commits (or trees) -- the envelope as
 * gitsign keeps it and the bundle beside it -- verifies from the bundle, offline too, signer,
 * log entry and subject; an attestation that is not about this commit, not of the type asked
 * for, not by the identity asked for, or changed after it was made does not, nor one kept
 * incomplete (its `.sig` missing); one that is missing fails with cosign's "no signature" code.
 * A bundle of another envelope than the `.sig`'s (stale, as gitsign's attest of the same file
 * leaves Signet's) is ignored, and said to be. The envelope alone (gitsign's own form, an intoto
 * entry; Signet's before it kept bundles) is found by the log's search, past any number of
 * copies of its payload logged by others, up to the search's limit; a bundle kept in the `.sig`
 * verifies too.
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
import { bundleToJSON, serializeBundle } from '../../src/bundle/bundle.ts';
import { assembleBundle } from '../../src/bundle/assemble.ts';
import { parseTrustedRootJSON } from '../../src/bundle/trusted-root.ts';
import { createEntryV1, dsseV001, searchEntryIdsV1 } from '../../src/client/http/rekor-v1.ts';
import { trustedLogSearch } from '../../src/client/git/commits.ts';
import { checkGitAttestations } from '../../src/client/git/verify-attestations.ts';
import { signerPolicy } from '../../src/client/verify/setup.ts';
import { envelopeToJSON } from '../../src/core/dsse/index.ts';
import { INTOTO_PAYLOAD_TYPE } from '../../src/core/intoto/index.ts';
import { pae } from '../../src/core/dsse/index.ts';
import { decodePem } from '../../src/core/encoding/pem.ts';
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
async function signing(identityToken = token): Promise<SignContext> {
  const tufRoot = path.join(dir, 'root.json');
  fs.writeFileSync(tufRoot, await (await fetch(`${stack.url}/tuf/1.root.json`)).text());
  return setupSigning({
    server: stack.url,
    tufRoot,
    identityToken,
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

  // Kept: the predicate and the envelope alone as gitsign keeps them, and the bundle beside.
  const ref = 'refs/attestations/commits';
  assert.deepEqual((await git(['ls-tree', '--name-only', `${ref}:${head}`])).split('\n'), [
    'provenance.json',
    'provenance.json.sig',
    'provenance.json.sigstore.json',
  ]);
  const sig = JSON.parse(await show(`${ref}:${head}/provenance.json.sig`)) as object;
  assert.deepEqual(Object.keys(sig), ['payload', 'payloadType', 'signatures']);
  const kept = JSON.parse(await show(`${ref}:${head}/provenance.json.sigstore.json`)) as {
    mediaType: string;
    dsseEnvelope: unknown;
    verificationMaterial: { tlogEntries: Array<{ logIndex: string }> };
  };
  assert.equal(kept.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(kept.dsseEnvelope, sig);
  assert.deepEqual(
    kept.verificationMaterial.tlogEntries.map((e) => e.logIndex),
    [String(index)],
  );

  const r = await verify(['--type', 'slsaprovenance1', ...ID]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `^provenance\\.json: https://slsa\\.dev/provenance/v1 by dev@signet\\.local \\(issuer ${stack.url}/oidc\\) at \\S+ \\(timestamp authority\\), \\S+ \\(transparency log\\); log index ${index} at `,
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
  assert.equal(v.source, 'bundle');
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
  const files = ['provenance.json', 'provenance.json.sig', 'provenance.json.sigstore.json'];
  const copied: Record<string, string> = {};
  for (const f of files) copied[`${two}/${f}`] = await show(`${ref}:${head}/${f}`);
  let restore = await editRef(ref, copied);
  const notAbout = new RegExp(
    `provenance\\.json: the attestation is not about this artifact: no subject has gitCommit digest ${two} \\(subjects: gitCommit:${head}\\)\\)$`,
  );
  fails(await verify(['--type', PROVENANCE, ...ID]), 12, notAbout);
  await restore();
  // The same without the bundle (found through the log's search).
  restore = await editRef(ref, copied, [`${two}/provenance.json.sigstore.json`]);
  fails(await verify(['--type', PROVENANCE, ...ID]), 12, notAbout);
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
  // not an envelope at all. The log has no entry of it; the bundle beside it, of another
  // envelope now, is ignored as stale (said so), since it could as well have been removed.
  const bundleFile = at('provenance.json.sigstore.json');
  const noEntryStaleBundle =
    /provenance\.json: the transparency log has no entry for provenance\.json\.sig's signature .*: it was never logged, or it changed since; provenance\.json\.sigstore\.json was ignored: its envelope is not the one kept in provenance\.json\.sig \(a stale bundle, e\.g\. left when gitsign attest rewrote provenance\.json\.sig\)\)$/;
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
  const forgedFiles = {
    [at('provenance.json')]: JSON.stringify(statement.predicate),
    [at('provenance.json.sig')]: JSON.stringify(forged),
  };
  restore = await editRef(ref, forgedFiles);
  fails(await ok(), 12, noEntryStaleBundle);
  await restore();
  restore = await editRef(ref, forgedFiles, [bundleFile]);
  fails(
    await ok(),
    12,
    /provenance\.json: the transparency log has no entry for provenance\.json\.sig's signature .*: it was never logged, or it changed since\)$/,
  );
  await restore();
  const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
  sig[sig.length - 1]! ^= 1;
  const badSig = {
    [at('provenance.json.sig')]: JSON.stringify({
      ...envelope,
      signatures: [{ sig: sig.toString('base64') }],
    }),
  };
  restore = await editRef(ref, badSig);
  fails(await ok(), 12, noEntryStaleBundle);
  await restore();
  restore = await editRef(ref, badSig, [bundleFile]);
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
  const files = ['provenance.json', 'provenance.json.sig', 'provenance.json.sigstore.json'];
  const commits: Record<string, string> = {};
  for (const f of files)
    commits[`${tree}/${f}`] = await show(`refs/attestations/commits:${head}/${f}`);
  const restore = await editRef(trees, commits);
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
  const elsewhere: Record<string, string> = {};
  for (const f of files) elsewhere[`${other}/${f}`] = await show(`${trees}:${tree}/${f}`);
  const moved = await editRef(trees, elsewhere);
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
  // Trust of another deployment (a clone has no signet.server): said so, with where to set it.
  const publicGood = path.resolve(
    'test/fixtures/conformance/trust-roots/production/trusted_root.json',
  );
  fails(
    await verify(['--type', PROVENANCE, ...ID, '--trusted-root', publicGood], clone),
    12,
    /^error: no matching attestations for commit .* is from a deployment the trusted root does not cover: .*; give the deployment that signed it with --server URL, or set it for this repository: git config signet\.server URL$/,
  );
});

test('offline: what signet-gitsign attest keeps verifies from its bundle; an envelope alone cannot; a bundle kept in the .sig can', async () => {
  const rootFile = path.join(dir, 'trusted_root.json');
  fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
  const offline = ['--type', PROVENANCE, ...ID, '--offline', '--trusted-root', rootFile];
  const kept = await verify([...offline, '-o', 'json']);
  assert.equal(kept.status, 0, kept.stderr);
  const keptReport = JSON.parse(kept.stdout) as {
    verified: Array<{ file: string; source: string; tlog: unknown[] }>;
  };
  assert.deepEqual(
    keptReport.verified.map((v) => [v.file, v.source, v.tlog.length]),
    [['provenance.json', 'bundle', 1]],
  );
  // Online, with a trusted root whose log cannot be reached: the bundle needs no search.
  const root = JSON.parse(fs.readFileSync(rootFile, 'utf8')) as {
    tlogs: Array<{ baseUrl: string }>;
  };
  for (const l of root.tlogs) l.baseUrl = `${stack.url}/no-such-log`;
  const deadLog = file('dead-log-root.json', JSON.stringify(root));
  const online = ['--type', PROVENANCE, ...ID, '--trusted-root', deadLog];
  const noSearch = await verify(online);
  assert.equal(noSearch.status, 0, noSearch.stderr);
  // Without its bundle (as gitsign keeps it), the envelope alone needs the search.
  const ref = 'refs/attestations/commits';
  const restore = await editRef(ref, {}, [`${head}/provenance.json.sigstore.json`]);
  fails(
    await verify(offline),
    12,
    /provenance\.json: provenance\.json\.sig holds a DSSE envelope alone \(no certificate, no log entry\), which verifies only through the transparency log's search; the log was not searched \(offline\)\)$/,
  );
  fails(
    await verify(online),
    12,
    /provenance\.json: the transparency log \(Rekor v1 search\) at http:\/\/127\.0\.0\.1:\d+\/no-such-log\/api\/v1\/index\/retrieve answered HTTP 404/,
  );
  await restore();
  // A bundle about this commit kept as the .sig (made through the library, signed as attest does).
  const ctx = await signing();
  const predicate = new TextEncoder().encode('{"reviewed":true}');
  const review = 'https://example.com/review/v1';
  /** A bundle of a statement about `about`, kept as review.json.sig under this commit. */
  const keepBundleAbout = async (about: string) => {
    const bundle = await signEnvelope(
      gitStatement('commit', about, review, predicate, 'predicate'),
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
  };
  await keepBundleAbout(head);
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
  await keepBundleAbout(await git(['commit-tree', tree, '-m', 'elsewhere']));
  fails(
    await verify(['--type', review, ...ID, '--offline', '--trusted-root', rootFile]),
    12,
    new RegExp(
      `review\\.json: the attestation is not about this artifact: no subject has gitCommit digest ${head}`,
    ),
  );
});

/**
 * What gitsign attest makes of `predicate` about `about`: the statement signed in an envelope
 * (returned as gitsign keeps it in `<name>.sig`), logged as intoto 0.0.2 with the certificate.
 */
async function gitsignEnvelope(predicate: Uint8Array, type: string, about = head): Promise<string> {
  const ctx = await signing();
  const payload = gitStatement('commit', about, type, predicate, 'predicate');
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
  return JSON.stringify(envelope);
}

test("gitsign's form (an intoto entry, the envelope alone) and a large predicate (logged by digest) verify", async () => {
  // gitsign attest: the envelope alone kept in the repository.
  const predicate = new TextEncoder().encode('{"tests":"passed"}');
  const type = 'https://example.com/tests/v1';
  const envelope = await gitsignEnvelope(predicate, type);
  await storeAttestation(repo, 'commit', head, 'tests.json', predicate, envelope);
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

test('the bundle beside the envelope is used only when it is of exactly that envelope, and must then verify unaltered', async () => {
  const ref = 'refs/attestations/commits';
  const at = (f: string) => `${head}/${f}`;
  const ok = () => verify(['--type', PROVENANCE, ...ID, head]);
  assert.equal((await ok()).status, 0);
  const bundleFile = at('provenance.json.sigstore.json');
  // A bundle of another envelope is never used: it is stale (said so) and the .sig is
  // verified without it, through the log's search, as if it had been removed.
  const ignored =
    'provenance\\.json\\.sigstore\\.json was ignored: its envelope is not the one kept in provenance\\.json\\.sig \\(a stale bundle, e\\.g\\. left when gitsign attest rewrote provenance\\.json\\.sig\\)';
  const verifiedWithoutTheBundle = async () => {
    const r = await verify(['--type', PROVENANCE, ...ID, head, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^warning: provenance\\.json: ${ignored}; `));
    assert.deepEqual(
      (
        JSON.parse(r.stdout) as { verified: Array<{ source: string; staleBundle: string }> }
      ).verified.map((v) => [v.source, v.staleBundle]),
      [['log search', 'provenance.json.sigstore.json']],
    );
  };
  // Another attestation's bundle: valid, by the same signer, about the same commit.
  let restore = await editRef(ref, {
    [bundleFile]: await show(`${ref}:${at('sbom.json.sigstore.json')}`),
  });
  await verifiedWithoutTheBundle();
  await restore();
  // The envelope with a key ID the bundle's lacks (a hint, not signed) is not the bundle's; the
  // log's entry records the signature, which is the same.
  const envelope = JSON.parse(await show(`${ref}:${at('provenance.json.sig')}`)) as {
    payload: string;
    payloadType: string;
    signatures: Array<{ sig: string }>;
  };
  restore = await editRef(ref, {
    [at('provenance.json.sig')]: JSON.stringify({
      ...envelope,
      signatures: [{ ...envelope.signatures[0]!, keyid: 'k' }],
    }),
  });
  await verifiedWithoutTheBundle();
  await restore();
  // Another payload type, or a signature more, is not the bundle's envelope either, and does
  // not verify without it.
  for (const [other, why] of [
    [
      { ...envelope, payloadType: 'application/json' },
      "the transparency log has no entry for provenance\\.json\\.sig's signature .*",
    ],
    [
      { ...envelope, signatures: [...envelope.signatures, ...envelope.signatures] },
      "dsseEnvelope\\.signatures: a bundle's envelope must carry exactly one signature, found 2",
    ],
  ] as const) {
    restore = await editRef(ref, { [at('provenance.json.sig')]: JSON.stringify(other) });
    fails(await ok(), 12, new RegExp(`provenance\\.json: ${why}; ${ignored}\\)$`));
    await restore();
  }
  // The same envelope spelt otherwise (field order, spacing) is.
  const { payload, payloadType, signatures } = envelope;
  restore = await editRef(ref, {
    [at('provenance.json.sig')]: JSON.stringify({ signatures, payloadType, payload }, null, 2),
  });
  assert.equal((await ok()).status, 0);
  await restore();

  // The bundle altered: its signature (the .sig altered alike, so the envelopes agree), its log
  // entry's time, its inclusion proof, its certificate, no log entry; not a bundle at all.
  const bundle = JSON.parse(await show(`${ref}:${bundleFile}`)) as {
    dsseEnvelope: { signatures: Array<{ sig: string }> };
    verificationMaterial: {
      certificate: { rawBytes: string };
      tlogEntries: Array<{ integratedTime: string; inclusionProof: { rootHash: string } }>;
    };
  };
  const alter = async (edit: (b: typeof bundle) => void, also: Record<string, string> = {}) => {
    const b = structuredClone(bundle);
    edit(b);
    return editRef(ref, { [bundleFile]: JSON.stringify(b), ...also });
  };
  const flipped = Buffer.from(envelope.signatures[0]!.sig, 'base64');
  flipped[flipped.length - 1]! ^= 1;
  restore = await alter((b) => (b.dsseEnvelope.signatures[0]!.sig = flipped.toString('base64')), {
    [at('provenance.json.sig')]: JSON.stringify({
      ...envelope,
      signatures: [{ sig: flipped.toString('base64') }],
    }),
  });
  fails(
    await ok(),
    12,
    /provenance\.json: the DSSE envelope signature does not verify with the signer's key\)$/,
  );
  await restore();
  restore = await alter((b) => {
    const t = b.verificationMaterial.tlogEntries[0]!;
    t.integratedTime = String(Number(t.integratedTime) + 1);
  });
  fails(
    await ok(),
    12,
    /provenance\.json: the log's signed entry timestamp \(promise of inclusion\) for entry \d+ does not verify with the key of /,
  );
  await restore();
  restore = await alter((b) => {
    const p = b.verificationMaterial.tlogEntries[0]!.inclusionProof;
    p.rootHash = Buffer.alloc(32, 1).toString('base64');
  });
  fails(
    await ok(),
    12,
    /provenance\.json: the inclusion proof of entry \d+ names a root hash that differs from the signed checkpoint's\)$/,
  );
  await restore();
  // (signet-gitsign's credential cache signed every attestation here with one certificate.)
  const another = decodePem((await signing()).signer.verifierPem, 'certificate').der;
  restore = await alter(
    (b) =>
      (b.verificationMaterial.certificate = { rawBytes: Buffer.from(another).toString('base64') }),
  );
  fails(
    await ok(),
    12,
    /provenance\.json: the DSSE envelope signature does not verify with the signer's key\)$/,
  );
  await restore();
  restore = await alter((b) => (b.verificationMaterial.tlogEntries = []));
  fails(
    await ok(),
    12,
    /provenance\.json: provenance\.json\.sigstore\.json has 0 transparency log entries; 1 verified entry is required/,
  );
  await restore();
  restore = await editRef(ref, { [bundleFile]: '{"mediaType":"application/json"}' });
  fails(
    await ok(),
    12,
    /provenance\.json: provenance\.json\.sigstore\.json: is not a valid Sigstore bundle: /,
  );
  await restore();
  restore = await editRef(ref, { [bundleFile]: 'not json' });
  fails(await ok(), 12, /provenance\.json: provenance\.json\.sigstore\.json: is not valid JSON/);
  await restore();
  assert.equal((await ok()).status, 0);
});

test("re-attested with gitsign (the .sig rewritten, Signet's bundle left): the stale bundle is ignored, and said so; the .sig verifies through the log's search, and fails if it does not", async () => {
  const ref = 'refs/attestations/commits';
  const at = (f: string) => `${head}/${f}`;
  const args = ['--type', PROVENANCE, ...ID, head];
  const signets = await show(`${ref}:${at('provenance.json.sigstore.json')}`);
  // gitsign attest -f provenance.json writes provenance.json and provenance.json.sig, nothing
  // else: Signet's bundle of the earlier envelope stays beside the new one.
  const predicate = '{"builder":{"id":"https://ci.example/gitsign"}}';
  const envelope = await gitsignEnvelope(new TextEncoder().encode(predicate), PROVENANCE);
  const rewritten = { [at('provenance.json')]: predicate, [at('provenance.json.sig')]: envelope };
  let restore = await editRef(ref, rewritten);
  assert.equal(await show(`${ref}:${at('provenance.json.sigstore.json')}`), signets);
  const ignored =
    /provenance\.json\.sigstore\.json was ignored: its envelope is not the one kept in provenance\.json\.sig \(a stale bundle, e\.g\. left when gitsign attest rewrote provenance\.json\.sig\)/;
  const r = await verify(args);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^provenance\.json: https:\/\/slsa\.dev\/provenance\/v1 by dev@signet\.local /,
  );
  assert.match(
    r.stderr,
    new RegExp(
      `^warning: provenance\\.json: ${ignored.source}; provenance\\.json\\.sig verified through the log's search\n`,
    ),
  );
  const j = await verify([...args, '-o', 'json']);
  assert.equal(j.status, 0, j.stderr);
  const verified = (
    JSON.parse(j.stdout) as {
      verified: Array<{
        file: string;
        source: string;
        staleBundle?: string;
        tlog: Array<{ kind: string }>;
        statement: { predicate: unknown };
      }>;
    }
  ).verified;
  assert.deepEqual(
    verified.map((v) => [v.file, v.source, v.staleBundle, v.tlog.map((t) => t.kind)]),
    [['provenance.json', 'log search', 'provenance.json.sigstore.json', ['intoto 0.0.2']]],
  );
  assert.deepEqual(verified[0]!.statement.predicate, JSON.parse(predicate));
  // The .sig alone does not verify offline: the failure says the bundle was ignored.
  fails(
    await verify([...args, '--offline']),
    12,
    new RegExp(
      `provenance\\.json: provenance\\.json\\.sig holds a DSSE envelope alone .*the log was not searched \\(offline\\); ${ignored.source}\\)$`,
    ),
  );
  await restore();
  // A rewritten .sig that does not verify (its signature altered) still fails.
  const e = JSON.parse(envelope) as { signatures: Array<{ sig: string }> };
  const sig = Buffer.from(e.signatures[0]!.sig, 'base64');
  sig[sig.length - 1]! ^= 1;
  e.signatures[0]!.sig = sig.toString('base64');
  restore = await editRef(ref, { ...rewritten, [at('provenance.json.sig')]: JSON.stringify(e) });
  fails(
    await verify(args),
    12,
    new RegExp(
      `provenance\\.json: the transparency log has no entry for provenance\\.json\\.sig's signature .*; ${ignored.source}\\)$`,
    ),
  );
  await restore();
  // Signet's own again: its bundle is of the .sig, and is what verifies, with nothing ignored.
  const back = await verify([...args, '-o', 'json']);
  assert.equal(back.status, 0, back.stderr);
  assert.doesNotMatch(back.stderr, /warning/);
  assert.deepEqual(
    (JSON.parse(back.stdout) as { verified: Array<Record<string, unknown>> }).verified.map((v) => [
      v['source'],
      v['staleBundle'],
    ]),
    [['bundle', undefined]],
  );
});

test('an attestation kept incomplete (a predicate file or a bundle without its .sig) is named with the file missing, and does not verify (exit 12)', async () => {
  const ref = 'refs/attestations/commits';
  const other = await git(['commit-tree', tree, '-m', 'incomplete']);
  const kept = {
    'provenance.json': await show(`${ref}:${head}/provenance.json`),
    'provenance.json.sigstore.json': await show(`${ref}:${head}/provenance.json.sigstore.json`),
  };
  const missing = (beside: string) =>
    new RegExp(
      `^error: no matching attestations for commit ${other}: 1 found, 1 of type https://slsa\\.dev/provenance/v1, 0 valid \\(provenance\\.json: provenance\\.json\\.sig is missing beside ${beside}: the envelope holds the signature, so this attestation cannot be checked \\(kept incomplete, or its \\.sig was removed\\)\\)$`,
    );
  for (const [names, beside] of [
    [['provenance.json'], 'provenance\\.json'],
    [['provenance.json.sigstore.json'], 'provenance\\.json\\.sigstore\\.json'],
    [
      ['provenance.json', 'provenance.json.sigstore.json'],
      'provenance\\.json and provenance\\.json\\.sigstore\\.json',
    ],
  ] as const) {
    const restore = await editRef(
      ref,
      Object.fromEntries(names.map((n) => [`${other}/${n}`, kept[n]])),
    );
    fails(await verify(['--type', PROVENANCE, ...ID, other]), 12, missing(beside));
    await restore();
  }
  // Beside attestations that verify: said, and they still verify.
  const restore = await editRef(ref, { [`${head}/notes.json`]: '{}' });
  const r = await verify(['--type', PROVENANCE, ...ID, '-o', 'json', head]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^warning: notes\.json: notes\.json\.sig is missing beside notes\.json: the envelope holds the signature/m,
  );
  const report = JSON.parse(r.stdout) as {
    valid: number;
    rejected: Array<{ file: string; reason: string }>;
  };
  assert.equal(report.valid, 1);
  assert.deepEqual(
    report.rejected.map((x) => x.file),
    ['notes.json'],
  );
  await restore();
});

test('a predicate file named like a bundle, or whose bundle would replace an attestation, is refused before signing', async () => {
  const ref = 'refs/attestations/commits';
  const was = await git(['rev-parse', ref]);
  const treeSize = async () =>
    ((await (await fetch(`${stack.url}/rekor/api/v1/log`)).json()) as { treeSize: number })
      .treeSize;
  const logged = await treeSize();
  const named = file('x.sigstore.json', '{}');
  const r = await attest(['-f', named, '--type', 'custom']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /--filepath: "x\.sigstore\.json" ends in \.sigstore\.json, as the bundle kept beside an attestation is named: rename the predicate file/,
  );
  assert.doesNotMatch(r.stderr, /tlog entry created/);
  assert.equal(await git(['rev-parse', ref]), was);
  // gitsign may have attested x.sigstore.json: the bundle of x would replace its predicate file.
  const restore = await editRef(ref, {
    [`${head}/x.sigstore.json`]: '{}',
    [`${head}/x.sigstore.json.sig`]: '{}',
  });
  const edited = await git(['rev-parse', ref]);
  const x = await attest(['-f', file('x', '{}'), '--type', 'custom']);
  assert.equal(x.status, 1, x.stderr);
  assert.match(
    x.stderr,
    /--filepath: "x" cannot be attested here: its bundle, x\.sigstore\.json, would replace the attestation of that name kept for this object/,
  );
  assert.doesNotMatch(x.stderr, /tlog entry created/);
  assert.equal(await git(['rev-parse', ref]), edited);
  await restore();
  // Nothing was logged.
  assert.equal(await treeSize(), logged);
});

test('an envelope kept alone is found by the search past 10 copies of its payload others logged first, up to the limit', async () => {
  const ctx = await signing();
  // Someone else: the stack's GitHub Actions identity.
  const mallory = await signing(await stackToken(stack.url, 'signet-dev/demo', '/github'));
  const predicate = new TextEncoder().encode('{"flood":true}');
  const type = 'https://example.com/flood/v1';
  const payload = gitStatement('commit', head, type, predicate, 'predicate');
  const rekor = `${stack.url}/rekor`;
  // Logged as dsse 0.0.1 (as signet-gitsign attest logs it): the envelope and its signer.
  const log = async (who: SignContext) => {
    const sig = who.signer.sign(pae(INTOTO_PAYLOAD_TYPE, payload));
    const envelopeJson = JSON.stringify(
      envelopeToJSON({
        payload,
        payloadType: INTOTO_PAYLOAD_TYPE,
        signatures: [{ keyid: '', sig }],
      }),
    );
    const entry = await createEntryV1(
      rekor,
      dsseV001({ envelopeJson, verifierPems: [who.signer.verifierPem] }),
    );
    return { envelopeJson, entry };
  };
  // Before its signer logs it, 12 copies of the statement signed by someone else.
  for (let i = 0; i < 12; i++) await log(mallory);
  const { envelopeJson, entry } = await log(ctx);
  const index = entry.logIndex;
  const hash = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
  const listed = await searchEntryIdsV1(rekor, { hash });
  assert.equal(listed.length, 13);

  const ref = 'refs/attestations/commits';
  const source = async () => {
    const r = await verify(['--type', type, ...ID, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const v = (
      JSON.parse(r.stdout) as {
        verified: Array<{ source: string; tlog: Array<{ logIndex: number }> }>;
      }
    ).verified;
    assert.deepEqual(
      v.map((x) => x.tlog.map((t) => t.logIndex)),
      [[Number(index)]],
    );
    return v[0]!.source;
  };
  // Kept as signet-gitsign attest keeps it; then again as gitsign does, without the bundle,
  // which is then no longer kept (it would not be of the envelope kept).
  const bundle = assembleBundle({
    signature: envelopeJson,
    attestation: true,
    certificatePem: ctx.signer.verifierPem,
    tlogEntries: [entry],
  });
  await storeAttestation(
    repo,
    'commit',
    head,
    'flood.json',
    predicate,
    envelopeJson,
    serializeBundle(bundle),
  );
  assert.equal(await source(), 'bundle');
  await storeAttestation(repo, 'commit', head, 'flood.json', predicate, envelopeJson);
  const names = (await git(['ls-tree', '--name-only', `${ref}:${head}`])).split('\n');
  assert.ok(names.includes('flood.json.sig'));
  assert.ok(!names.includes('flood.json.sigstore.json'), names.join(' '));
  assert.equal(await source(), 'log search');

  // The search's limit: past it, one line saying so; at it, the entry is still found.
  const trustedRoot = parseTrustedRootJSON(
    await (await fetch(`${stack.url}/trusted_root.json`)).text(),
  );
  const policy = await signerPolicy(
    { certificateIdentity: 'dev@signet.local', certificateOidcIssuer: `${stack.url}/oidc` },
    { keyFlag: false },
  );
  const check = (limit: number) =>
    checkGitAttestations(repo, 'commit', head, {
      trustedRoot,
      policy,
      predicateType: type,
      search: trustedLogSearch(trustedRoot, {}, [rekor], limit),
    });
  const over = await check(12);
  assert.equal(over.verified.length, 0);
  assert.deepEqual(
    over.rejected.map((x) => x.name),
    ['flood.json'],
  );
  assert.match(
    over.rejected[0]!.reason,
    new RegExp(
      `^no entry read records flood\\.json\\.sig's signature, and not all were read \\(the log at ${rekor} lists 13 entries for ${hash}; the first 12 were read\\): its payload may have been logged again many times to hide its entry; an attestation kept with its bundle \\(flood\\.json\\.sigstore\\.json, as signet-gitsign attest writes it\\) verifies without the search$`,
    ),
  );
  const at = await check(13);
  assert.deepEqual(
    at.verified.map((v) => [v.name, v.source]),
    [['flood.json', 'log search']],
  );
  // A signature never logged, among as many entries as are read: all were read, none is its.
  const unlogged = envelopeToJSON({
    payload,
    payloadType: INTOTO_PAYLOAD_TYPE,
    signatures: [{ keyid: '', sig: ctx.signer.sign(pae(INTOTO_PAYLOAD_TYPE, payload)) }],
  });
  await storeAttestation(repo, 'commit', head, 'flood.json', predicate, JSON.stringify(unlogged));
  assert.match(
    (await check(13)).rejected[0]!.reason,
    /^the transparency log has no entry for flood\.json\.sig's signature /,
  );
  assert.match((await check(12)).rejected[0]!.reason, /^no entry read records flood\.json\.sig's/);
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
