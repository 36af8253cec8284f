// Policies are refused when loaded, with the file, the field path and the reason: bad globs,
// unknown fields, CEL that does not compile or is not a bool, bad regexps, keys that are not
// keys, missing trust roots, thresholds larger than the authorities, CUE and Rego.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPolicies } from '../../../src/client/policy/index.ts';
import { parseTrustedRootJSON } from '../../../src/bundle/trusted-root.ts';
import { SignetError } from '../../../src/core/errors.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-policy-load-'));
const root = parseTrustedRootJSON(
  fs.readFileSync('test/fixtures/conformance/trust-roots/production/trusted_root.json', 'utf8'),
);
const trust = { root, label: 'test' };
let n = 0;

const ID = '{subject: a@example.com, issuer: https://issuer.example.com}';
const GOOD_SPEC = `  images: [{glob: "ghcr.io/org/**"}]
  authorities:
    - keyless: {identities: [${ID}]}`;

function file(text: string, ext = 'yaml'): string {
  const f = path.join(dir, `p${n++}.${ext}`);
  fs.writeFileSync(f, text);
  return f;
}

function doc(spec: string): string {
  return `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n${spec}\n`;
}

async function refused(text: string, re: RegExp, opts = { defaultTrust: trust }) {
  const f = file(text);
  await assert.rejects(loadPolicies([f], opts), (e: unknown) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.ok(e.message.startsWith(f), `names the file: ${e.message}`);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

test('a good policy loads', async () => {
  const p = await loadPolicies([file(doc(GOOD_SPEC))], { defaultTrust: trust });
  assert.equal(p.length, 1);
  assert.equal(p[0]!.mode, 'enforce');
  assert.equal(p[0]!.authorities[0]!.name, 'authority-0');
});

test('bad globs, unknown fields, wrong types', async () => {
  await refused(
    doc(GOOD_SPEC.replace('ghcr.io/org/**', 'ghcr.io/[a-z]+')),
    /spec\.images\[0\]\.glob: "ghcr\.io\/\[a-z\]\+" is not a valid image glob/,
  );
  await refused(doc(`${GOOD_SPEC}\n  colour: blue`), /spec\.colour: is not a known field/);
  await refused(
    doc(GOOD_SPEC.replace('keyless: {', 'keyless: {colour: 1, ')),
    /spec\.authorities\[0\]\.keyless\.colour: is not a known field/,
  );
  await refused(doc(`${GOOD_SPEC}\n  mode: audit`), /spec\.mode: "audit" is not a mode/);
  await refused(doc('  images: [{glob: "a/**"}]'), /spec\.authorities: is required/);
  await refused(
    doc(GOOD_SPEC.replace('images: [{glob: "ghcr.io/org/**"}]', 'images: []')),
    /spec\.images: is required/,
  );
  await refused(
    doc(`  images: [{glob: "a/**"}]\n  authorities: [{key: {data: x}, static: {action: pass}}]`),
    /exactly one of key, keyless, static/,
  );
  await refused(
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {}\n',
    /apiVersion: "v1" is not one of/,
  );
  await refused('spec: [unclosed\n', /is not YAML or JSON/);
  // What the YAML library would otherwise throw raw or only warn about on stderr: an alias to
  // no anchor, more aliases than a policy may expand, a tag it does not know.
  const warnings: unknown[] = [];
  const onWarning = (w: unknown) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    await refused('a: *nowhere\n', /is not YAML or JSON: Unresolved alias/);
    const laughs = ['a: &a [x, x, x, x, x, x, x, x]'];
    for (const k of 'bcdef')
      laughs.push(
        `${k}: &${k} [${Array(8)
          .fill(`*${String.fromCharCode(k.charCodeAt(0) - 1)}`)
          .join(', ')}]`,
      );
    await refused(laughs.join('\n'), /is not YAML or JSON: Excessive alias count/);
    await refused(
      `${doc(GOOD_SPEC)}\n  note: !private x`,
      /is not YAML or JSON: Unresolved tag: !private/,
    );
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, [], 'nothing printed on stderr behind the error');
});

test('CEL that does not compile or is not a bool; CUE and Rego are refused', async () => {
  const att = (type: string, data: string) =>
    doc(
      `${GOOD_SPEC}\n      attestations:\n        - name: prov\n          predicateType: slsaprovenance1\n          policy: {type: ${type}, data: ${JSON.stringify(data)}}`,
    );
  await refused(
    att('cel', 'predicate.x =='),
    /spec\.authorities\[0\]\.attestations\[0\]\.policy\.data: CEL expression does not compile/,
  );
  await refused(
    att('cel', 'predicateType'),
    /policy\.data: CEL expression returns string, not bool/,
  );
  await refused(att('cel', 'unknownVar == 1'), /does not compile/);
  await refused(
    att('cue', 'predicate: {}'),
    /policy\.type: CUE policies are not supported: Signet evaluates conditions in CEL/,
  );
  await refused(att('rego', 'package x'), /Rego policies are not supported.*CEL/);
  const cue = file('x: 1', 'cue');
  await assert.rejects(loadPolicies([cue]), /CUE policies are not supported.*CEL/);
  // and a good one loads, its short predicate type expanded
  const p = await loadPolicies([file(att('cel', 'predicate.buildDefinition.buildType != ""'))], {
    defaultTrust: trust,
  });
  const a = p[0]!.authorities[0]!;
  assert.ok(
    a.kind === 'keyless' && a.attestations[0]!.predicateType === 'https://slsa.dev/provenance/v1',
  );
});

test('regexps, keys, identities, trust roots, thresholds', async () => {
  await refused(
    doc(GOOD_SPEC.replace('subject: a@example.com', 'subjectRegExp: "(unclosed"')),
    /identities\[0\]\.subjectRegExp: is not a valid regular expression/,
  );
  await refused(
    doc(GOOD_SPEC.replace('subject: a@example.com, ', '')),
    /identities\[0\]: needs subject or subjectRegExp/,
  );
  await refused(
    doc(
      `  images: [{glob: "a/**"}]\n  authorities: [{key: {data: "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n"}}]`,
    ),
    /spec\.authorities\[0\]\.key\.data: is not a public key/,
  );
  await refused(
    doc(`  images: [{glob: "a/**"}]\n  authorities: [{key: {data: "hello"}}]`),
    // the field once: not "key.data: is not a public key: spec...key.data: contains no PEM block"
    /: spec\.authorities\[0\]\.key\.data: is not a public key: contains no PEM block$/,
  );
  await refused(
    doc(`  images: [{glob: "a/**"}]\n  authorities: [{key: {kms: "awskms:///x"}}]`),
    /key\.kms: KMS keys are not supported/,
  );
  await refused(
    doc(GOOD_SPEC.replace('keyless: {', 'keyless: {trustRootRef: nowhere, ')),
    /keyless\.trustRootRef: names the trust root "nowhere", which is not defined/,
  );
  await refused(doc(GOOD_SPEC), /has no trust root: name a TrustRoot/, {
    defaultTrust: undefined as never,
  });
  await refused(
    `apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec: {trustedRootFile: missing.json}\n---\n${doc(GOOD_SPEC)}`,
    /document 1\): spec\.trustedRootFile: missing\.json does not exist; check the path$/,
  );
  await refused(
    doc(
      `  threshold: 2\n${GOOD_SPEC.split('\n').slice(1).join('\n')}`.replace(
        '  authorities',
        '  images: [{glob: "a/**"}]\n  authorities',
      ),
    ),
    /spec\.threshold: is 2 but the policy lists only 1 authority/,
  );
  await refused(
    doc(GOOD_SPEC.replace('- keyless:', '- threshold: 3\n      keyless:')),
    /spec\.authorities\[0\]\.threshold: is 3 but the authority accepts only 1 identity/,
  );
  fs.writeFileSync(path.join(dir, 'OWNERS'), 'a@example.com @octocat\n');
  await refused(
    doc(
      `  images: [{glob: "a/**"}]\n  authorities: [{keyless: {identitiesFrom: {file: OWNERS, format: codeowners, issuer: x}}}]`,
    ),
    /OWNERS line 1: "a@example\.com" is not one identity|"@octocat" is a handle/,
  );
});

test('spec.match limits a policy to kinds of resources (and their labels) at admission', async () => {
  const { policyMatches, parseImageReference } =
    await import('../../../src/client/policy/index.ts');
  const p = await loadPolicies(
    [
      file(
        doc(
          `${GOOD_SPEC}\n  match:\n    - {group: apps, version: "*", resource: deployments, selector: {matchLabels: {tier: prod}}}`,
        ),
      ),
    ],
    { defaultTrust: trust },
  );
  const t = { kind: 'image' as const, ref: parseImageReference('ghcr.io/org/app:v1', 'i') };
  const res = (resource: string, labels: Record<string, string>) => ({
    group: resource === 'pods' ? '' : 'apps',
    version: 'v1',
    resource,
    labels,
  });
  assert.equal(policyMatches(p[0]!, t, res('deployments', { tier: 'prod' })), true);
  assert.equal(policyMatches(p[0]!, t, res('deployments', { tier: 'dev' })), false);
  assert.equal(policyMatches(p[0]!, t, res('pods', { tier: 'prod' })), false);
  assert.equal(policyMatches(p[0]!, t), true, 'outside admission, match does not apply');
  await refused(
    doc(`${GOOD_SPEC}\n  match: [{selector: {matchLabels: {a: b}}}]`),
    /spec\.match\[0\]\.selector: a selector needs a resource type/,
  );
  // an entry that could never match a review is refused, not left to match nothing
  const match = (m: string) => doc(`${GOOD_SPEC}\n  match: [${m}]`);
  await refused(
    match('{group: apps, version: v1, resource: deployment}'),
    /spec\.match\[0\]\.resource: "deployment" is not a resource admission decides: pods, deployments, /,
  );
  await refused(match('{version: v1}'), /spec\.match\[0\]\.resource: is required: one of pods, /);
  await refused(
    match('{version: v1, resource: deployments}'),
    /spec\.match\[0\]\.group: "" is not the API group of deployments: use apps$/,
  );
  await refused(
    match('{group: core, version: v1, resource: pods}'),
    /spec\.match\[0\]\.group: "core" is not the API group of pods: leave it out/,
  );
  await refused(
    match('{group: batch, resource: jobs}'),
    /spec\.match\[0\]\.version: "" is not v1 or "\*" \(any version\)$/,
  );
  // matchExpressions, as Kubernetes label selectors have them
  const sel = await loadPolicies(
    [
      file(
        match(
          '{group: apps, version: v1, resource: deployments, selector: {matchLabels: {tier: prod}, matchExpressions: [{key: team, operator: In, values: [web, api]}, {key: legacy, operator: DoesNotExist}, {key: env, operator: NotIn, values: [dev]}, {key: owner, operator: Exists}]}}',
        ),
      ),
    ],
    { defaultTrust: trust },
  );
  const labels = { tier: 'prod', team: 'web', owner: 'x' };
  assert.equal(policyMatches(sel[0]!, t, res('deployments', labels)), true);
  for (const [k, v] of [
    ['team', 'db'],
    ['legacy', 'yes'],
    ['env', 'dev'],
    ['tier', 'dev'],
  ] as const)
    assert.equal(policyMatches(sel[0]!, t, res('deployments', { ...labels, [k]: v })), false, k);
  assert.equal(policyMatches(sel[0]!, t, res('deployments', { tier: 'prod', team: 'web' })), false);
  assert.equal(
    policyMatches(sel[0]!, t, res('deployments', { ...labels, env: 'prod' })),
    true,
    'NotIn holds for another value',
  );
  const expr = (e: string) =>
    match(`{version: v1, resource: pods, selector: {matchExpressions: [${e}]}}`);
  await refused(
    expr('{key: a, operator: in, values: [x]}'),
    /spec\.match\[0\]\.selector\.matchExpressions\[0\]\.operator: "in" is not one of In, NotIn, Exists, DoesNotExist$/,
  );
  await refused(
    expr('{key: a, operator: In}'),
    /matchExpressions\[0\]\.values: is required for In: the label values to compare$/,
  );
  await refused(
    expr('{key: a, operator: Exists, values: [x]}'),
    /matchExpressions\[0\]\.values: must be empty for Exists$/,
  );
  await refused(expr('{operator: Exists}'), /matchExpressions\[0\]\.key: is required$/);
  await refused(
    expr('{key: a, operator: Exists, value: x}'),
    /matchExpressions\[0\]\.value: is not a known field/,
  );
  const ok = await loadPolicies(
    [
      file(
        match('{version: v1, resource: pods}, {group: batch, version: "*", resource: cronjobs}'),
      ),
    ],
    { defaultTrust: trust },
  );
  assert.equal(ok[0]!.match.length, 2);
});

test('refused policy-controller features name the field and say what to use instead', async () => {
  const key = (k: string) => doc(`  images: [{glob: "a/**"}]\n  authorities: [{key: ${k}}]`);
  await refused(
    key('{kms: "awskms:///alias/x"}'),
    /spec\.authorities\[0\]\.key\.kms: KMS keys are not supported: give the public key in data or file \(export it with `cosign public-key --key <kms-uri>`\)/,
  );
  await refused(
    key('{secretRef: {name: cosign-pub}}'),
    /spec\.authorities\[0\]\.key\.secretRef: Kubernetes secrets are not read: give the public key in data or file/,
  );
  await refused(
    doc(GOOD_SPEC.replace('keyless: {', 'keyless: {ca-cert: {secretRef: {name: ca}}, ')),
    /keyless\.ca-cert\.secretRef: is not supported: give the CA chain in ca-cert\.data \(PEM\), or name a TrustRoot with trustRootRef/,
  );
  await refused(
    doc(GOOD_SPEC.replace('keyless: {', 'keyless: {ca-cert: {kms: "gcpkms://x"}, ')),
    /keyless\.ca-cert\.kms: is not supported: give the CA chain in ca-cert\.data/,
  );
  await refused(
    doc(
      `${GOOD_SPEC}\n      source: [{oci: "registry.example.com/sigs", signaturePullSecrets: [{name: regcred}]}]`,
    ),
    /spec\.authorities\[0\]\.source\[0\]\.signaturePullSecrets: Kubernetes pull secrets are not read: signet reads every registry with --registry-username \/ --registry-password or the Docker config/,
  );
  await refused(
    `apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec: {repository: {root: eA==, mirrorFS: eA==, targets: x}}\n---\n${doc(GOOD_SPEC)}`,
    /document 1\): spec\.repository: an embedded TUF repository \(mirrorFS\) is not supported: use remote \(a TUF repository URL\) or trustedRootFile/,
  );
});

test('bad input in every kind of policy is refused at load with the file, the field path and the reason', async () => {
  const blobs = (m: string) =>
    doc(`  blobs: [${m}]\n  authorities:\n    - keyless: {identities: [${ID}]}`);
  await refused(blobs('{path: "dist/***"}'), /spec\.blobs\[0\]\.path: "dist\/\*\*\*" has "\*\*\*"/);
  await refused(blobs('{name: ""}'), /spec\.blobs\[0\]\.name: is empty/);
  await refused(blobs('{colour: red}'), /spec\.blobs\[0\]\.colour: is not a known field/);
  const commits = (m: string) =>
    doc(`  commits: [${m}]\n  authorities:\n    - keyless: {identities: [${ID}]}`);
  await refused(
    commits('{repository: "github.com/org/***"}'),
    /spec\.commits\[0\]\.repository: "github\.com\/org\/\*\*\*" has "\*\*\*"/,
  );
  await refused(commits('{ref: "refs/heads/main"}'), /spec\.commits\[0\]\.repository: is required/);
  await refused(
    doc(GOOD_SPEC.replace('issuer: https://issuer.example.com', 'issuerRegExp: "https://(x"')),
    /identities\[0\]\.issuerRegExp: is not a valid regular expression/,
  );
  // spec.policy: a policy-level CEL condition that does not compile, or is not a bool
  const cond = (c: string) =>
    doc(`${GOOD_SPEC}\n  policy: {type: cel, data: ${JSON.stringify(c)}}`);
  await refused(cond('authorityMatches.'), /spec\.policy\.data: CEL expression does not compile/);
  await refused(
    cond('size(authorityMatches)'),
    /spec\.policy\.data: CEL expression returns int, not bool/,
  );
  // a key file that holds a private key, or a certificate that is not one
  fs.writeFileSync(
    path.join(dir, 'private.pem'),
    (await import('node:crypto'))
      .generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString(),
  );
  await refused(
    doc(`  images: [{glob: "a/**"}]\n  authorities: [{key: {file: private.pem}}]`),
    /spec\.authorities\[0\]\.key\.file: .*PEM block "PRIVATE KEY" is not a public key/,
  );
  await refused(
    doc(
      GOOD_SPEC.replace(
        'keyless: {',
        'keyless: {ca-cert: {data: "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n"}, ',
      ),
    ),
    /keyless\.ca-cert\.data\[0\]: is not a DER certificate/,
  );
  await refused(
    doc(
      `  images: [{glob: "a/**"}]\n  authorities: [{keyless: {identitiesFrom: {file: MISSING, issuer: x}}}]`,
    ),
    /identitiesFrom\.file: MISSING does not exist; check the path$/,
  );
  await refused(
    doc(`  threshold: 0\n${GOOD_SPEC}`),
    /spec\.threshold: must be a whole number of at least 1, found 0/,
  );
});

test('files a policy names: missing, a folder, not JSON: a sentence naming the file, no errno or V8 text', async () => {
  fs.mkdirSync(path.join(dir, 'a-folder'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"mediaType": ');
  const trustRoot = (f: string) =>
    `apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec: {trustedRootFile: ${f}}\n---\n${doc(GOOD_SPEC)}`;
  const keyFile = (f: string) =>
    doc(`  images: [{glob: "a/**"}]\n  authorities: [{key: {file: ${f}}}]`);
  const cases: Array<[string, RegExp]> = [
    [
      trustRoot('a-folder'),
      /spec\.trustedRootFile: a-folder is a folder, not a file; give the file inside it$/,
    ],
    [
      trustRoot('broken.json'),
      /spec\.trustedRootFile: broken\.json is not valid JSON \(it ends too early\)$/,
    ],
    [
      keyFile('missing.pub'),
      /spec\.authorities\[0\]\.key\.file: missing\.pub does not exist; check the path$/,
    ],
    [
      keyFile('a-folder'),
      /spec\.authorities\[0\]\.key\.file: a-folder is a folder, not a file; give the file inside it$/,
    ],
  ];
  for (const [text, re] of cases) {
    const f = file(text);
    await assert.rejects(loadPolicies([f], { defaultTrust: trust }), (e: unknown) => {
      assert.ok(e instanceof SignetError, String(e));
      assert.ok(e.message.startsWith(f), `names the policy file: ${e.message}`);
      assert.match(e.message, re);
      // an errno code (ENOENT) or V8's words, not letters of the random temp folder's name
      assert.doesNotMatch(e.message.replace(dir, 'DIR'), /\bE[A-Z]{3,}\b|Unexpected token|\n/);
      return true;
    });
  }
  // The policy file itself
  for (const [p, re] of [
    [path.join(dir, 'nope.yaml'), /nope\.yaml does not exist; check the path$/],
    [path.join(dir, 'a-folder'), /a-folder holds no policy files \(\*\.yaml, \*\.yml, \*\.json\)$/],
  ] as const)
    await assert.rejects(loadPolicies([p], { defaultTrust: trust }), (e: unknown) => {
      assert.ok(e instanceof SignetError, String(e));
      assert.match(e.message, re);
      assert.doesNotMatch(e.message.replace(dir, 'DIR'), /\bE[A-Z]{3,}\b|\n/);
      return true;
    });
});

test('spec.policy includeSpec, includeObjectMeta, includeTypeMeta, fetchConfigFile: a condition sees only the parts its policy includes', async () => {
  const policy = (fields: string, data: string) =>
    doc(`${GOOD_SPEC}\n  policy: {type: cel, ${fields}data: ${JSON.stringify(data)}}`);
  const p = await loadPolicies(
    [
      file(
        policy(
          'includeSpec: true, includeObjectMeta: true, ',
          'metadata.namespace == "prod" && has(spec.containers)',
        ),
      ),
    ],
    { defaultTrust: trust },
  );
  assert.deepEqual(p[0]!.includes.sort(), ['metadata', 'spec']);
  // Without the flag, the part is not there to name.
  await refused(
    policy('', 'metadata.namespace == "prod"'),
    /spec\.policy\.data: CEL expression does not compile: Unknown variable: metadata \(metadata is seen only with includeObjectMeta: true in spec\.policy\)$/,
  );
  await refused(
    policy('includeSpec: true, ', 'typemeta.kind == "Pod"'),
    /spec\.policy\.data: CEL expression does not compile: .*\(typemeta is seen only with includeTypeMeta: true in spec\.policy\)$/,
  );
  await refused(policy('includeSpec: false, ', 'has(spec.containers)'), /does not compile/);
  await refused(
    policy('includeSpec: "yes", ', 'true'),
    /spec\.policy\.includeSpec: must be true or false/,
  );
  await refused(
    policy('', 'has(config["linux/amd64"])'),
    /spec\.policy\.data: CEL expression does not compile/,
  );
  await refused(
    policy('', 'config["linux/amd64"].os == "linux"'),
    /spec\.policy\.data: CEL expression does not compile: .*\(config is seen only with fetchConfigFile: true in spec\.policy\)$/,
  );
  const withConfig = await loadPolicies(
    [file(policy('fetchConfigFile: true, ', 'config["linux/amd64"].os == "linux"'))],
    { defaultTrust: trust },
  );
  assert.deepEqual(withConfig[0]!.includes, ['config']);
  // An attestation's condition sees its statement, not the object.
  await refused(
    doc(
      `${GOOD_SPEC}\n      attestations:\n        - name: prov\n          predicateType: slsaprovenance1\n          policy: {type: cel, data: "spec.replicas > 1"}`,
    ),
    /attestations\[0\]\.policy\.data: .*Unknown variable: spec \(spec is seen by spec\.policy with includeSpec: true, not by an attestation's condition\)$/,
  );
  // a name that is no part gets no hint
  await refused(policy('', 'nothing == 1'), /Unknown variable: nothing$/);
  await refused(
    doc(
      `${GOOD_SPEC}\n      attestations:\n        - name: prov\n          predicateType: slsaprovenance1\n          policy: {type: cel, includeSpec: true, data: "true"}`,
    ),
    /attestations\[0\]\.policy\.includeSpec: belongs in spec\.policy/,
  );
});
