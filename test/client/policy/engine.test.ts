// The policy engine over real bundles signed through a running stack: each authority kind
// (keyless exact and regexp, key, static), attestations with CEL conditions, thresholds
// (authorities and distinct signers, identities from a file in the repository), modes, the AND
// of several policies, the no-match policy, and trust roots by reference.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle } from '../../../src/bundle/bundle.ts';
import {
  compileCondition,
  decideBlob,
  loadPolicies,
  type Decision,
  type Policy,
  type Target,
} from '../../../src/client/policy/index.ts';
import { CEL_LIST_40, HUNGRY_CONDITION, nestedComprehensions, policyStack } from './helpers.ts';
import {
  EVALUATOR_MEMORY_MB,
  setEvaluatorMemoryLimit,
} from '../../../src/client/policy/cel-sandbox.ts';

let S: Awaited<ReturnType<typeof policyStack>>;
const data = new TextEncoder().encode('release 1.0\n');
const artifact = { kind: 'bytes' as const, data };
const target: Target = { kind: 'blob', path: 'dist/app.tgz', name: 'app.tgz', digest: undefined };
const B: Record<string, Bundle> = {};

before(async () => {
  S = await policyStack();
  B.alice = await S.sign(data, 'alice@example.com');
  B.bob = await S.sign(data, 'bob@example.com');
  B.key = await S.signWithKey(data);
  B.provenance = await S.attest(data, 'alice@example.com', 'https://slsa.dev/provenance/v1', {
    buildDefinition: {
      buildType: 'https://signet.dev/build/v1',
      externalParameters: { ref: 'refs/tags/v1.0' },
    },
    runDetails: { builder: { id: 'https://ci.example.com/builder' } },
  });
});
after(() => S?.close());

let n = 0;
/** A policy file with `spec` (YAML, indented under spec:) for the blob target. */
async function load(spec: string, extra = ''): Promise<Policy[]> {
  const f = S.write(
    `p${n++}.yaml`,
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: p${n}\nspec:\n  blobs:\n    - path: "dist/**"\n${spec}\n${extra}`,
  );
  return loadPolicies([f], { defaultTrust: { root: S.root, label: 'stack' } });
}

function decide(
  policies: Policy[],
  bundles: Array<keyof typeof B>,
  t: Target = target,
): Promise<Decision> {
  return decideBlob(
    policies,
    t,
    artifact,
    bundles.map((b) => ({ bundle: B[b]!, label: String(b) })),
  );
}

const keyless = (subject: string, issuerLine?: string) => `  authorities:
    - name: signer
      keyless:
        identities:
          - ${subject}
            ${issuerLine ?? `issuer: ${S.issuer}`}`;

test('keyless exact identity: the named signer passes, another is refused with the reason', async () => {
  const p = await load(keyless('subject: alice@example.com'));
  const ok = await decide(p, ['alice']);
  assert.equal(ok.allowed, true, ok.errors.join());
  assert.equal(ok.policies[0]!.authorities[0]!.satisfiedBy[0]!.identity, 'alice@example.com');
  const no = await decide(p, ['bob']);
  assert.equal(no.allowed, false);
  assert.match(no.errors[0]!, /policy "p\d+" fails/);
  assert.match(
    no.policies[0]!.authorities[0]!.reasons[0]!,
    /bob@example\.com.*none of the 1|not to "alice@example\.com"/,
  );
  // the issuer is exact too
  const wrongIssuer = await load(
    keyless('subject: alice@example.com', 'issuer: https://accounts.example.com'),
  );
  assert.equal((await decide(wrongIssuer, ['alice'])).allowed, false);
});

test('keyless regexp identity matches the whole value only', async () => {
  const any = await load(
    keyless(
      'subjectRegExp: ".*@example\\\\.com"',
      `issuerRegExp: "${S.issuer.replace(/\./g, '\\\\.')}"`,
    ),
  );
  assert.equal((await decide(any, ['bob'])).allowed, true);
  const prefix = await load(keyless('subjectRegExp: "alice@example"'));
  const d = await decide(prefix, ['alice']);
  assert.equal(d.allowed, false, 'a regexp is anchored: a prefix does not match');
});

test('key authority: the key-signed bundle passes, a keyless one does not', async () => {
  const pem = S.publicKeyPem
    .trim()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');
  const p = await load(`  authorities:\n    - key:\n        data: |\n${pem}`);
  assert.equal((await decide(p, ['key'])).allowed, true);
  const d = await decide(p, ['alice']);
  assert.equal(d.allowed, false);
  assert.match(d.policies[0]!.authorities[0]!.reasons[0]!, /has a key other than the key given/);
  assert.equal(d.policies[0]!.authorities[0]!.name, 'authority-0', 'default authority name');
});

test('what a signature must carry, as policy-controller reads the authority: key needs no log unless it names ctlog; rfc3161timestamp needs a signed timestamp instead of a log entry', async () => {
  const strip = (b: Bundle, what: { tlog?: boolean; tsa?: boolean }): Bundle => ({
    ...b,
    verificationMaterial: {
      ...b.verificationMaterial,
      tlogEntries: what.tlog ? [] : b.verificationMaterial.tlogEntries,
      rfc3161Timestamps: what.tsa ? [] : b.verificationMaterial.rfc3161Timestamps,
    },
  });
  assert.ok(B.alice!.verificationMaterial.rfc3161Timestamps.length > 0, 'the stack timestamps');
  B.keyNoLog = strip(B.key!, { tlog: true });
  B.aliceNoLog = strip(B.alice!, { tlog: true });
  B.aliceNoTsa = strip(B.alice!, { tsa: true });
  const pem = S.publicKeyPem
    .trim()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');
  const key = (extra = '') => load(`  authorities:\n    - key:\n        data: |\n${pem}${extra}`);
  // cosign sign --key --tlog-upload=false (policy-controller's cip-key-no-rekor)
  const noLog = await decide(await key(), ['keyNoLog']);
  assert.equal(noLog.allowed, true, noLog.errors.join());
  const withLog = await decide(await key(`\n      ctlog: {url: "${S.root.tlogs[0]!.baseUrl}"}`), [
    'keyNoLog',
  ]);
  assert.equal(withLog.allowed, false);
  assert.match(withLog.errors[0]!, /0 transparency log entries; 1 verified entry is required/);
  assert.equal((await decide(await key(`\n      ctlog: {}`), ['key'])).allowed, true);
  // a certificate still needs its log entry (the time it is checked at)
  const keyless = await load(
    `  authorities:\n    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}`,
  );
  assert.equal((await decide(keyless, ['aliceNoLog'])).allowed, false);
  assert.equal((await decide(keyless, ['aliceNoTsa'])).allowed, true);
  // rfc3161timestamp: a signed timestamp is required, a log entry is not
  const tsa = await load(
    `  authorities:\n    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}\n      rfc3161timestamp: {}`,
  );
  const t1 = await decide(tsa, ['aliceNoLog']);
  assert.equal(t1.allowed, true, t1.errors.join());
  const t2 = await decide(tsa, ['aliceNoTsa']);
  assert.equal(t2.allowed, false);
  assert.match(t2.errors[0]!, /0 verified RFC 3161 timestamps; 1 is required/);
  // ... and with ctlog as well, both
  const both = await load(
    `  authorities:\n    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}\n      rfc3161timestamp: {}\n      ctlog: {}`,
  );
  assert.equal((await decide(both, ['aliceNoLog'])).allowed, false);
  assert.equal((await decide(both, ['alice'])).allowed, true);
});

test('key.hashAlgorithm: the hash the signer used (a sha512 signature, as cert-manager makes)', async () => {
  const { generateKeyPairSync, sign } = await import('node:crypto');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ms = B.key!.content;
  assert.equal(ms.$case, 'messageSignature');
  const signed = (hash: string): Bundle => ({
    ...B.key!,
    verificationMaterial: {
      ...B.key!.verificationMaterial,
      tlogEntries: [],
      rfc3161Timestamps: [],
    },
    content: {
      $case: 'messageSignature',
      messageSignature: { ...ms.messageSignature, signature: sign(hash, data, privateKey) },
    },
  });
  B.sha512 = signed('sha512');
  B.sha256 = signed('sha256');
  const pem = publicKey
    .export({ format: 'pem', type: 'spki' })
    .toString()
    .trim()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');
  const key = (ha: string) =>
    load(`  authorities:\n    - key:\n        ${ha}\n        data: |\n${pem}`);
  const sha512 = await key('hashAlgorithm: SHA512');
  const ok = await decide(sha512, ['sha512']);
  assert.equal(ok.allowed, true, ok.errors.join());
  assert.equal((await decide(sha512, ['sha256'])).allowed, false);
  const dflt = await key('hashAlgorithm: sha256');
  assert.equal((await decide(dflt, ['sha256'])).allowed, true);
  const no = await decide(dflt, ['sha512']);
  assert.equal(no.allowed, false);
  assert.match(no.errors[0]!, /signature does not verify/);
  // attestations too: the DSSE envelope is verified with that hash
  const env = B.provenance!.content;
  assert.equal(env.$case, 'dsseEnvelope');
  const { pae } = await import('../../../src/core/dsse/index.ts');
  const e = env.dsseEnvelope;
  B.att512 = {
    ...B.sha512,
    content: {
      $case: 'dsseEnvelope',
      dsseEnvelope: {
        ...e,
        signatures: [{ keyid: '', sig: sign('sha512', pae(e.payloadType, e.payload), privateKey) }],
      },
    },
  };
  const att = (ha: string) =>
    load(
      `  authorities:\n    - key:\n        ${ha}\n        data: |\n${pem}\n      attestations: [{name: p, predicateType: slsaprovenance1}]`,
    );
  const a = await decide(await att('hashAlgorithm: sha512'), ['att512']);
  assert.equal(a.allowed, true, a.errors.join());
  assert.equal((await decide(await att('hashAlgorithm: sha256'), ['att512'])).allowed, false);
  await assert.rejects(
    key('hashAlgorithm: sha224'),
    /spec\.authorities\[0\]\.key\.hashAlgorithm: sha224 is not supported: use sha256, sha384 or sha512$/,
  );
  await assert.rejects(
    key('hashAlgorithm: md5'),
    /spec\.authorities\[0\]\.key\.hashAlgorithm: "md5" is not sha256, sha384 or sha512$/,
  );
});

test('static authorities pass or fail without signatures', async () => {
  const pass = await load('  authorities:\n    - static: {action: pass}');
  assert.equal((await decide(pass, [])).allowed, true);
  const fail = await load('  authorities:\n    - static: {action: fail, message: frozen}');
  const d = await decide(fail, ['alice']);
  assert.equal(d.allowed, false);
  assert.match(d.errors[0]!, /frozen/);
});

test('within a policy any authority suffices; several matching policies must all pass', async () => {
  const either = await load(`  authorities:
    - keyless: {identities: [{subject: carol@example.com, issuer: "${S.issuer}"}]}
    - keyless: {identities: [{subject: bob@example.com, issuer: "${S.issuer}"}]}`);
  assert.equal((await decide(either, ['bob'])).allowed, true);
  const aliceOnly = await load(keyless('subject: alice@example.com'));
  const both = [...either, ...aliceOnly];
  assert.equal((await decide(both, ['bob'])).allowed, false, 'AND: the second policy fails');
  const d = await decide(both, ['bob', 'alice']);
  assert.equal(d.allowed, true, d.errors.join());
  assert.equal(d.policies.length, 2);
});

test('threshold: k distinct authorities, and k distinct signers from a maintainers file', async () => {
  const two = await load(
    `  threshold: 2
  authorities:
    - name: a
      keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
    - name: b
      keyless: {identities: [{subject: bob@example.com, issuer: "${S.issuer}"}]}
    - name: k
      key: {file: key.pub}`,
    '',
  ).catch((e) => e);
  // key.pub does not exist yet: a load error naming the field
  assert.match(
    String(two),
    /spec\.authorities\[2\]\.key\.file: key\.pub does not exist; check the path$/,
  );
  S.write('key.pub', S.publicKeyPem);
  S.write(
    'MAINTAINERS',
    '# release maintainers\nalice@example.com\nbob@example.com  # since 2026\ncarol@example.com\n',
  );
  const p2 = await load(`  threshold: 2
  authorities:
    - name: a
      keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
    - name: b
      keyless: {identities: [{subject: bob@example.com, issuer: "${S.issuer}"}]}
    - name: k
      key: {file: key.pub}`);
  assert.equal((await decide(p2, ['alice'])).allowed, false);
  assert.match((await decide(p2, ['alice'])).errors[0]!, /1 of the 2 required authorities/);
  assert.equal((await decide(p2, ['alice', 'key'])).allowed, true);
  const maintainers = await load(`  authorities:
    - name: maintainers
      threshold: 2
      keyless:
        identitiesFrom: {file: MAINTAINERS, issuer: "${S.issuer}"}`);
  const one = await decide(maintainers, ['alice', 'alice']);
  assert.equal(one.allowed, false, 'the same signer twice is one signer');
  assert.match(one.policies[0]!.authorities[0]!.reasons[0]!, /1 distinct signer of 2/);
  const d = await decide(maintainers, ['alice', 'bob']);
  assert.equal(d.allowed, true, d.errors.join());
  assert.deepEqual(d.policies[0]!.authorities[0]!.satisfiedBy.map((s) => s.identity).sort(), [
    'alice@example.com',
    'bob@example.com',
  ]);
  // CODEOWNERS-like: only the owners of one entry
  S.write('CODEOWNERS', '*  carol@example.com\n/release/ alice@example.com bob@example.com\n');
  const owners = await load(`  authorities:
    - keyless:
        identitiesFrom: {file: CODEOWNERS, format: codeowners, entry: /release/, issuer: "${S.issuer}"}`);
  assert.equal((await decide(owners, ['bob'])).allowed, true);
  const carolOnly = await load(`  authorities:
    - keyless:
        identitiesFrom: {file: CODEOWNERS, format: codeowners, entry: "*", issuer: "${S.issuer}"}`);
  assert.equal((await decide(carolOnly, ['bob'])).allowed, false);
});

test('attestations: predicate type and a CEL condition over the verified statement', async () => {
  const att = (cond: string, type = 'https://slsa.dev/provenance/v1') =>
    load(`  authorities:
    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
      attestations:
        - name: provenance
          predicateType: ${type}
          policy:
            type: cel
            data: ${JSON.stringify(cond)}`);
  const good = await att(
    'predicate.runDetails.builder.id == "https://ci.example.com/builder" && certificate.subject == "alice@example.com" && logTime > timestamp("2020-01-01T00:00:00Z") && artifact.path == "dist/app.tgz"',
  );
  const d = await decide(good, ['provenance', 'alice']);
  assert.equal(d.allowed, true, JSON.stringify(d.policies[0]!.authorities[0]!.reasons));
  assert.equal(d.policies[0]!.authorities[0]!.satisfiedBy[0]!.attestation, 'provenance');
  const wrongBuilder = await att('predicate.runDetails.builder.id == "https://evil.example.com"');
  const w = await decide(wrongBuilder, ['provenance']);
  assert.equal(w.allowed, false);
  assert.match(w.policies[0]!.authorities[0]!.reasons.join(), /condition .* is false/);
  const wrongType = await att('true', 'https://spdx.dev/Document');
  assert.match(
    (await decide(wrongType, ['provenance'])).policies[0]!.authorities[0]!.reasons.join(),
    /predicate type/,
  );
  // a signature alone does not satisfy an authority that asks for attestations
  assert.equal((await decide(good, ['alice'])).allowed, false);
  // a condition that errors at run time (missing key) fails closed
  const missing = await att('predicate.nothing.here == "x"');
  assert.equal((await decide(missing, ['provenance'])).allowed, false);
});

test('warn mode admits and reports what would have failed; no-match policy', async () => {
  const warn = await load(`  mode: warn\n${keyless('subject: carol@example.com')}`);
  const d = await decide(warn, ['alice']);
  assert.equal(d.allowed, true);
  assert.match(d.warnings[0]!, /would fail \(warn mode\)/);
  assert.equal(d.policies[0]!.passed, false);
  const other: Target = { kind: 'blob', path: 'src/x.c', name: 'x.c', digest: undefined };
  const p = await load(keyless('subject: alice@example.com'));
  assert.equal(
    (await decide(p, ['alice'], other)).allowed,
    false,
    'default: deny what no policy covers',
  );
  assert.equal((await decideBlob(p, other, artifact, [], { noMatch: 'allow' })).allowed, true);
  const w = await decideBlob(p, other, artifact, [], { noMatch: 'warn' });
  assert.equal(w.allowed, true);
  assert.match(w.warnings[0]!, /no policy covers src\/x\.c/);
});

test('blob matching by name glob', async () => {
  const f = S.write(
    'byname.yaml',
    `apiVersion: policy.sigstore.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: by-name}
spec:
  blobs: [{name: "app-*.tgz"}]
  authorities: [{static: {action: pass}}]`,
  );
  const p = await loadPolicies([f]);
  const t = (name: string): Target => ({
    kind: 'blob',
    path: `x/${name}`,
    name,
    digest: undefined,
  });
  assert.equal((await decideBlob(p, t('app-1.0.tgz'), artifact, [])).noMatch, false);
  assert.equal((await decideBlob(p, t('app-1.0.zip'), artifact, [])).noMatch, true);
});

test('trust roots by reference: a TrustRoot document, and a root that does not trust the stack', async () => {
  const other = JSON.parse(
    JSON.stringify(
      JSON.parse(
        (await import('node:fs')).readFileSync(
          'test/fixtures/conformance/trust-roots/production/trusted_root.json',
          'utf8',
        ),
      ),
    ),
  );
  S.write('public-good.json', JSON.stringify(other));
  const f = S.write(
    'roots.yaml',
    `apiVersion: policy.sigstore.dev/v1alpha1
kind: TrustRoot
metadata: {name: ours}
spec: {trustedRootFile: trusted_root.json}
---
apiVersion: policy.sigstore.dev/v1alpha1
kind: TrustRoot
metadata: {name: public-good}
spec: {trustedRootFile: public-good.json}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: internal}
spec:
  blobs: [{path: "dist/**"}]
  authorities:
    - keyless:
        trustRootRef: ours
        identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: upstream}
spec:
  blobs: [{path: "vendor/**"}]
  authorities:
    - keyless:
        trustRootRef: public-good
        identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]
`,
  );
  // no default trust: every authority names its root
  const p = await loadPolicies([f]);
  assert.equal((await decide(p, ['alice'])).allowed, true);
  const vendor: Target = {
    kind: 'blob',
    path: 'vendor/app.tgz',
    name: 'app.tgz',
    digest: undefined,
  };
  const d = await decide(p, ['alice'], vendor);
  assert.equal(d.allowed, false, 'the public-good root does not trust our stack');
  assert.match(
    d.policies[0]!.authorities[0]!.reasons[0]!,
    /not in the trusted root|trusted|chain/i,
  );
});

test('spec.policy: a CEL condition over the authorities that matched', async () => {
  const spec = (cond: string) => `  authorities:
    - name: people
      keyless: {identities: [{subjectRegExp: ".*@example\\\\.com", issuer: "${S.issuer}"}]}
  policy:
    type: cel
    data: ${JSON.stringify(cond)}`;
  const two = await load(spec('authorityMatches["people"].signatures.size() >= 2'));
  assert.equal((await decide(two, ['alice'])).allowed, false);
  assert.match((await decide(two, ['alice'])).errors[0]!, /the policy condition .* is false/);
  assert.equal((await decide(two, ['alice', 'bob'])).allowed, true);
  const subj = await load(
    spec('authorityMatches.people.signatures.exists(s, s.subject == "bob@example.com")'),
  );
  assert.equal((await decide(subj, ['alice'])).allowed, false);
  assert.equal((await decide(subj, ['bob'])).allowed, true);
});

test('a TrustRoot that is a TUF repository (remote: mirror and root)', async () => {
  const rootJson = await (await fetch(`${S.stack.url}/tuf/1.root.json`)).text();
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const f = S.write(
    'tuf-root.yaml',
    `apiVersion: policy.sigstore.dev/v1alpha1
kind: TrustRoot
metadata: {name: stack-tuf}
spec:
  remote:
    mirror: ${S.stack.url}/tuf
    root: ${Buffer.from(rootJson).toString('base64')}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: via-tuf}
spec:
  blobs: [{path: "dist/**"}]
  authorities:
    - keyless:
        trustRootRef: stack-tuf
        identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]
`,
  );
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-policy-tuf-'));
  const p = await loadPolicies([f], { tufCacheDir: cache });
  assert.equal((await decide(p, ['alice'])).allowed, true);
  // a root that is not the repository's: refused when loaded, naming the field
  const bad = S.write(
    'tuf-bad.yaml',
    fs
      .readFileSync(f, 'utf8')
      .replace(/root: .*/, `root: ${Buffer.from('{"signed":{}}').toString('base64')}`),
  );
  await assert.rejects(
    loadPolicies([bad], { tufCacheDir: cache }),
    /tuf-bad\.yaml \(document 1\): spec\.remote/,
  );
});

test("a TrustRoot given as policy-controller's sigstoreKeys", async () => {
  const pem = (label: string, der: Uint8Array) =>
    `-----BEGIN ${label}-----\n${Buffer.from(der)
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  const ca = (c: (typeof S.root.certificateAuthorities)[number]) => ({
    subject: c.subject,
    uri: c.uri,
    certChain: b64(c.certChain.map((d) => pem('CERTIFICATE', d)).join('')),
  });
  const log = (l: (typeof S.root.tlogs)[number]) => ({
    baseURL: l.baseUrl,
    hashAlgorithm: 'sha-256',
    publicKey: b64(pem('PUBLIC KEY', l.publicKey.export({ format: 'der', type: 'spki' }))),
  });
  const keys = {
    certificateAuthorities: S.root.certificateAuthorities.map(ca),
    tLogs: S.root.tlogs.map(log),
    ctLogs: S.root.ctlogs.map(log),
    timestampAuthorities: S.root.timestampAuthorities.map(ca),
  };
  const f = S.write(
    'keys.yaml',
    `apiVersion: policy.sigstore.dev/v1alpha1
kind: TrustRoot
metadata: {name: inline}
spec:
  sigstoreKeys: ${JSON.stringify(keys)}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: inline-keys}
spec:
  blobs: [{path: "dist/**"}]
  authorities:
    - keyless:
        trustRootRef: inline
        identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]
`,
  );
  const p = await loadPolicies([f]);
  const d = await decide(p, ['alice']);
  assert.equal(d.allowed, true, JSON.stringify(d.policies[0]?.authorities[0]?.reasons));
});

/** A policy whose one authority needs alice's provenance attestation to satisfy `cel`. */
const provenanceCondition = (cel: string, mode = 'enforce') =>
  load(`  mode: ${mode}
  authorities:
    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
      attestations:
        - name: provenance
          predicateType: https://slsa.dev/provenance/v1
          policy: {type: cel, data: ${JSON.stringify(cel)}}`);
const RIGHT_BUILDER = "predicate.runDetails.builder.id == 'https://ci.example.com/builder'";
const provenance = () => [{ bundle: B.provenance!, label: 'prov' }];

test('evaluation is bounded in time: a condition still running at the deadline fails the policy (enforce denies, warn warns)', async () => {
  const slow = nestedComprehensions(5);
  const run = async (policies: Policy[], ms = 700) => {
    const t0 = Date.now();
    const d = await decideBlob(policies, target, artifact, provenance(), {
      deadline: Date.now() + ms,
    });
    return { d, took: Date.now() - t0 };
  };
  const enforce = await run(await provenanceCondition(slow));
  assert.equal(enforce.d.allowed, false);
  assert.match(
    enforce.d.errors[0]!,
    /policy "p\d+" fails: .*provenance: prov: condition did not finish before the deadline/,
  );
  assert.ok(enforce.took < 3000, `stopped at the deadline (${enforce.took} ms)`);
  const warn = await run(await provenanceCondition(slow, 'warn'));
  assert.equal(warn.d.allowed, true);
  assert.match(
    warn.d.warnings[0]!,
    /would fail \(warn mode\): .*did not finish before the deadline/,
  );
  assert.ok(warn.took < 3000, `stopped at the deadline (${warn.took} ms)`);
  // The evaluator is usable again after it was stopped (a generous deadline: a fresh worker
  // starts on a machine that may be busy).
  const fast = await provenanceCondition(RIGHT_BUILDER);
  const again = (await run(fast, 20_000)).d;
  assert.equal(again.allowed, true, again.errors.join());
  // A deadline already past: nothing is verified, and the reason says so.
  const late = await decideBlob(fast, target, artifact, provenance(), {
    deadline: Date.now() - 1,
  });
  assert.equal(late.allowed, false);
  assert.match(late.errors[0]!, /evaluation did not finish in time/);
});

test('a condition running long holds up neither the event loop nor the conditions of other decisions', async () => {
  const slow = await provenanceCondition(nestedComprehensions(5));
  const fast = await provenanceCondition(RIGHT_BUILDER);
  const prov = provenance();
  // An evaluator is up (a fresh one may take a while to start on a busy machine).
  assert.equal((await decideBlob(fast, target, artifact, prov)).allowed, true);
  const t0 = Date.now();
  let slowSettled = false;
  const slowDecision = decideBlob(slow, target, artifact, prov, { deadline: t0 + 5000 }).finally(
    () => (slowSettled = true),
  );
  // The caller's event loop is free: a short timer fires on time, not at the slow deadline.
  const tick = await new Promise<number>((r) => setTimeout(() => r(Date.now() - t0), 20));
  assert.ok(tick < 1000, `a 20 ms timer fired after ${tick} ms`);
  // Another decision's condition goes to a second evaluator and is answered meanwhile.
  const other = await decideBlob(fast, target, artifact, prov, { deadline: t0 + 30_000 });
  assert.equal(other.allowed, true, other.errors.join());
  assert.equal(slowSettled, false, 'answered while the slow condition was still running');
  const d = await slowDecision;
  assert.equal(d.allowed, false);
  assert.match(d.errors[0]!, /condition did not finish before the deadline/);
  assert.ok(Date.now() - t0 < 10_000, 'the slow one stopped at its deadline');
});

test('a condition typed dyn loads, and fails (denies) when it returns something other than a bool', async () => {
  const cond = compileCondition('predicate.approved', 'statement', 'policy.data');
  const input = (approved: unknown) => ({
    predicateType: 't',
    predicate: { approved },
    subject: [],
    type: 't',
  });
  assert.equal(await cond.evaluate(input(true)), true);
  assert.equal(await cond.evaluate(input(false)), false);
  for (const v of ['yes', 1, null, ['x']])
    await assert.rejects(cond.evaluate(input(v)), (e: Error) => {
      assert.match(e.message, /^condition returned \w+, not a bool$/);
      return true;
    });
});

test('a condition may run for as long as a distant deadline allows (beyond one timer)', async () => {
  // 40^3 steps: tens of milliseconds of work.
  const cond = compileCondition(nestedComprehensions(3), 'statement', 'policy.data');
  const input = { predicateType: 't', predicate: {}, subject: [], type: 't' };
  assert.equal(await cond.evaluate(input, Date.now() + 40 * 24 * 3600 * 1000), true);
});

test('evaluation is bounded in memory: a condition that builds lists of lists, or bytes outside the heap, fails, and the next one is answered', async () => {
  // 40^5 strings: gigabytes, were the evaluator's heap not bounded.
  const hungry = compileCondition(HUNGRY_CONDITION, 'statement', 'policy.data');
  const input = { predicateType: 't', predicate: {}, subject: [], type: 't' };
  const t0 = Date.now();
  await assert.rejects(hungry.evaluate(input, Date.now() + 60_000), (e: Error) => {
    assert.match(
      e.message,
      /^condition failed to evaluate: used more than 256 MB of memory \(evaluation is bounded in memory\)$/,
    );
    return true;
  });
  assert.ok(Date.now() - t0 < 30_000, `stopped by its memory bound (${Date.now() - t0} ms)`);
  // bytes() values live outside the JS heap: 40^3 copies of a 1 MiB string are counted too.
  const outside = compileCondition(
    `size(${CEL_LIST_40}.map(a, ${CEL_LIST_40}.map(b, ${CEL_LIST_40}.map(c, bytes(predicate.big))))) > 0`,
    'statement',
    'policy.data',
  );
  const big = { ...input, predicate: { big: 'x'.repeat(2 ** 20) } };
  await assert.rejects(outside.evaluate(big, Date.now() + 10_000), (e: Error) => {
    assert.match(e.message, /used more than 256 MB of memory \(evaluation is bounded in memory\)$/);
    return true;
  });
  const fine = compileCondition("predicateType == 't'", 'statement', 'policy.data');
  assert.equal(await fine.evaluate(input, Date.now() + 20_000), true);
});

test('the memory bound can be lowered (signet admission --cel-memory): a growing condition is stopped at the new bound', async () => {
  const hungry = compileCondition(HUNGRY_CONDITION, 'statement', 'policy.data');
  const input = { predicateType: 't', predicate: {}, subject: [], type: 't' };
  setEvaluatorMemoryLimit(32);
  try {
    await assert.rejects(hungry.evaluate(input, Date.now() + 60_000), (e: Error) => {
      assert.match(
        e.message,
        /^condition failed to evaluate: used more than 32 MB of memory \(evaluation is bounded in memory\)$/,
      );
      return true;
    });
  } finally {
    setEvaluatorMemoryLimit(EVALUATOR_MEMORY_MB);
  }
  assert.throws(() => setEvaluatorMemoryLimit(0), RangeError);
  assert.throws(() => setEvaluatorMemoryLimit(1.5), RangeError);
});

test('the memory bound counts what a condition builds, not its input: a predicate of ~300 MB is read', async () => {
  const items = Array.from({ length: 300_000 }, (_, i) => `${'x'.repeat(1000)}${i}`);
  const big = { predicateType: 't', predicate: { items }, subject: [], type: 't' };
  const cond = compileCondition(
    "size(predicate.items) == 300000 && predicate.items[299999].endsWith('299999')",
    'statement',
    'policy.data',
  );
  assert.equal(await cond.evaluate(big, Date.now() + 120_000), true);
});
