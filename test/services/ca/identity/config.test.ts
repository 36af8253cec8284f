import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  loadIssuerConfig,
  metaIssuerRegExp,
  parseIssuerConfig,
} from '../../../../src/services/ca/identity/config.ts';
import { compileTemplate } from '../../../../src/services/ca/identity/template.ts';
import { ciPrincipal } from '../../../../src/services/ca/identity/principals.ts';
import { selfSigned } from '../../../helpers/tls.ts';

const caPem = selfSigned(
  fs.mkdtempSync(path.join(os.tmpdir(), 'signet-iss-ca-')),
  'DNS:kubernetes.default.svc',
).cert;

// A configuration in Fulcio's own shape (anchors, `define`, meta-issuers, ci-issuer-metadata).
const FULCIO_STYLE = `
define:
  - &github-type "github-workflow"
oidc-issuers:
  https://accounts.google.com:
    issuer-url: https://accounts.google.com
    client-id: sigstore
    type: email
  https://oauth2.sigstore.dev/auth:
    issuer-url: https://oauth2.sigstore.dev/auth
    client-id: sigstore
    type: email
    issuer-claim: $.federated_claims.connector_id
  https://token.actions.githubusercontent.com:
    issuer-url: https://token.actions.githubusercontent.com
    client-id: sigstore
    type: ci-provider
    ci-provider: *github-type
  https://spiffe.example.com:
    type: spiffe
    spiffe-trust-domain: example.com
  https://id.example.com:
    type: username
    subject-domain: example.com
meta-issuers:
  https://oidc.eks.*.amazonaws.com/id/*:
    client-id: sigstore
    type: kubernetes
  https://oidc.circleci.com/org/*:
    type: ci-provider
    ci-provider: my-circle
ci-issuer-metadata:
  my-circle:
    default-template-values:
      api_url: "https://circleci.com/api/v2"
    extension-templates:
      runner-environment: '{{if eq (index . "oidc.circleci.com/ssh-rerun") "true"}}ssh-rerun{{ else }}""{{end}}'
      source-repository-uri: '{{index . "oidc.circleci.com/vcs-origin"}}'
    subject-alternative-name-template: '{{.api_url}}/projects/{{(index . "oidc.circleci.com/project-id")}}'
`;

test('Fulcio-shaped YAML (and JSON) configuration parses into typed issuers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-iss-'));
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, FULCIO_STYLE);
  const c = loadIssuerConfig(file);
  assert.deepEqual(
    c.oidcIssuers.map((e) => [e.issuerUrl, e.type, e.clientId]),
    [
      ['https://accounts.google.com', 'email', 'sigstore'],
      ['https://oauth2.sigstore.dev/auth', 'email', 'sigstore'],
      ['https://token.actions.githubusercontent.com', 'ci-provider', 'sigstore'],
      ['https://spiffe.example.com', 'spiffe', 'sigstore'],
      ['https://id.example.com', 'username', 'sigstore'],
    ],
  );
  assert.equal(c.oidcIssuers[1]!.issuerClaim, '$.federated_claims.connector_id');
  assert.equal(c.oidcIssuers[2]!.ciProvider, 'github-workflow');
  assert.equal(c.metaIssuers[1]!.ciProvider, 'my-circle');
  assert.ok(c.ciIssuerMetadata['github-workflow'], 'built-in templates are kept');
  const json = path.join(dir, 'config.json');
  fs.writeFileSync(
    json,
    JSON.stringify({
      'oidc-issuers': { 'https://a.example': { type: 'email', 'client-id': 'x' } },
    }),
  );
  assert.equal(loadIssuerConfig(json).oidcIssuers[0]!.clientId, 'x');
});

test('an issuer on an IPv6 address takes that address as its username subject domain (signet up --host ::1)', () => {
  const c = parseIssuerConfig({
    'oidc-issuers': {
      'http://[::1]:8420/oidc/username': { type: 'username', 'subject-domain': '::1' },
      'http://[::1]:8420/oidc/uri': { type: 'uri', 'subject-domain': 'http://[::1]:9' },
    },
  });
  assert.equal(Object.keys(c.oidcIssuers).length, 2);
  assert.throws(
    () =>
      parseIssuerConfig({
        'oidc-issuers': {
          'http://[::1]:8420/oidc': { type: 'username', 'subject-domain': '::2' },
        },
      }),
    /::2 must share its top-level domain \+ 1/,
  );
});

test("Fulcio's JSON configuration, in Go's field names as Fulcio deployments write it, reads as its YAML does", () => {
  // The shape of the config.json that Fulcio's own scaffolding, its Helm chart and RHTAS's
  // documentation write (ClientID, IssuerURL, Type; Go matches JSON names in any case).
  const json = {
    OIDCIssuers: {
      'https://accounts.google.com': {
        IssuerURL: 'https://accounts.google.com',
        ClientID: 'sigstore',
        Type: 'email',
      },
      'https://kubernetes.default.svc': {
        IssuerURL: 'https://kubernetes.default.svc',
        ClientID: 'sigstore',
        Type: 'kubernetes',
        CACert: fs.readFileSync(caPem, 'utf8'),
      },
    },
    MetaIssuers: {
      'https://oidc.circleci.com/org/*': {
        clientid: 'sigstore',
        type: 'ci-provider',
        CIProvider: 'my-circle',
      },
    },
    CIIssuerMetadata: {
      'my-circle': {
        DefaultTemplateValues: { api_url: 'https://circleci.com/api/v2' },
        ExtensionTemplates: { BuildSignerURI: 'job', SourceRepositoryURI: 'repo' },
        SubjectAlternativeNameTemplate: '{{.api_url}}/x',
      },
    },
  };
  const yaml = {
    'oidc-issuers': {
      'https://accounts.google.com': {
        'issuer-url': 'https://accounts.google.com',
        'client-id': 'sigstore',
        type: 'email',
      },
      'https://kubernetes.default.svc': {
        'issuer-url': 'https://kubernetes.default.svc',
        'client-id': 'sigstore',
        type: 'kubernetes',
        'ca-cert': fs.readFileSync(caPem, 'utf8'),
      },
    },
    'meta-issuers': {
      'https://oidc.circleci.com/org/*': {
        'client-id': 'sigstore',
        type: 'ci-provider',
        'ci-provider': 'my-circle',
      },
    },
    'ci-issuer-metadata': {
      'my-circle': {
        'default-template-values': { api_url: 'https://circleci.com/api/v2' },
        'extension-templates': { 'build-signer-uri': 'job', 'source-repository-uri': 'repo' },
        'subject-alternative-name-template': '{{.api_url}}/x',
      },
    },
  };
  const fromJson = parseIssuerConfig(JSON.stringify(json), 'config.json');
  assert.deepEqual(fromJson, parseIssuerConfig(yaml));
  assert.equal(fromJson.oidcIssuers[1]!.caCert, fs.readFileSync(caPem, 'utf8'));
  assert.deepEqual(fromJson.ciIssuerMetadata['my-circle']!.extensionTemplates, {
    9: 'job',
    12: 'repo',
  });
});

test('configuration mistakes name the field and the problem', () => {
  const bad = (cfg: unknown, msg: RegExp) => assert.throws(() => parseIssuerConfig(cfg), msg);
  bad(
    { 'oidc-issuers': { 'https://a.example': { type: 'myspace' } } },
    /oidc-issuers.https:\/\/a.example.type: must be one of email/,
  );
  bad(
    { 'oidc-issuers': { 'https://a.example': { type: 'ci-provider' } } },
    /ci-provider: required for type ci-provider/,
  );
  bad(
    { 'oidc-issuers': { 'https://a.example': { type: 'ci-provider', 'ci-provider': 'nope' } } },
    /no ci-issuer-metadata named "nope"/,
  );
  bad(
    {
      'oidc-issuers': {
        'https://a.example': { type: 'ci-provider', 'ci-provider': 'constructor' },
      },
    },
    /ci-provider: no ci-issuer-metadata named "constructor"/,
  );

  bad(
    {
      'oidc-issuers': {
        'https://a.example': { type: 'uri', 'subject-domain': 'https://other.test' },
      },
    },
    /must share its top-level domain \+ 1/,
  );
  bad(
    { 'oidc-issuers': { 'https://a.example': { type: 'spiffe' } } },
    /spiffe-trust-domain: required/,
  );
  bad(
    { 'meta-issuers': { 'https://*.example': { type: 'spiffe', 'spiffe-trust-domain': 'x' } } },
    /cannot be meta-issuers/,
  );
  bad(
    {
      'oidc-issuers': {
        'https://a.example': {
          type: 'uri',
          'issuer-claim': '$.x',
          'subject-domain': 'https://a.example',
        },
      },
    },
    /only email issuers/,
  );
  bad(
    {
      'oidc-issuers': { 'https://a.example': { type: 'email', 'issuer-url': 'https://b.example' } },
    },
    /differs from its key/,
  );
  bad({ 'oidc-issuers': { 'ftp://a.example': { type: 'email' } } }, /must be an http\(s\) URL/);
  bad(
    {
      'ci-issuer-metadata': {
        x: {
          'extension-templates': { 'no-such-ext': 'a' },
          'subject-alternative-name-template': 'a',
        },
      },
    },
    /not a Fulcio extension name/,
  );
  // a name every object inherits is no extension name either
  bad(
    {
      'ci-issuer-metadata': {
        x: {
          'extension-templates': { toString: 'a' },
          'subject-alternative-name-template': 'a',
        },
      },
    },
    /extension-templates\.toString: not a Fulcio extension name/,
  );
  bad(
    { 'ci-issuer-metadata': { x: { 'subject-alternative-name-template': '{{ .a ' } } },
    /bad template: unclosed action/,
  );
  bad({ 'ci-issuer-metadata': { x: {} } }, /subject-alternative-name-template: required/);
  // a misspelt key is refused, not dropped: a dropped required-claims would issue to everyone
  bad(
    { 'oidc-issuers': { 'https://a.example': { type: 'email', 'required-claim': { a: 'b' } } } },
    /issuer config: oidc-issuers\.https:\/\/a\.example\.required-claim: is not a key here \(known: issuer-url, client-id, .*, required-claims\)$/,
  );
  bad(
    { 'meta-issuers': { 'https://*.example': { type: 'email', client_id: 'x' } } },
    /meta-issuers\.https:\/\/\*\.example\.client_id: is not a key here/,
  );
  bad({ 'oidc-issuer': {} }, /issuer config\.oidc-issuer: is not a key here \(known: define, /);
  bad(
    { OIDCIssuers: {}, 'oidc-issuers': {} },
    /issuer config\.oidc-issuers: is oidc-issuers again, in another spelling/,
  );
  bad(
    {
      'ci-issuer-metadata': {
        x: { 'subject-alternative-name-template': 'x', 'extension-template': {} },
      },
    },
    /ci-issuer-metadata\.x\.extension-template: is not a key here/,
  );
  // Fulcio's ca-cert must hold certificates
  bad(
    { 'oidc-issuers': { 'https://a.example': { type: 'email', 'ca-cert': 'not pem' } } },
    /oidc-issuers\.https:\/\/a\.example\.ca-cert: contains no PEM block/,
  );
  bad(
    {
      'oidc-issuers': {
        'https://a.example': {
          type: 'email',
          'ca-cert': '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
        },
      },
    },
    /ca-cert: PEM block 1 is "PUBLIC KEY", not a CERTIFICATE/,
  );
  bad(
    {
      'oidc-issuers': {
        'https://a.example': {
          type: 'email',
          'ca-cert': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        },
      },
    },
    /ca-cert: certificate 1 does not parse/,
  );
  bad('oidc-issuers: [', /is not YAML or JSON: /);
  assert.throws(() => loadIssuerConfig('/no/such/file.yaml'), /cannot read issuer configuration/);
});

test('meta-issuer patterns are anchored and escaped (GHSA-59jp-pj84-45mr)', () => {
  const re = metaIssuerRegExp('https://oidc.eks.*.amazonaws.com/id/*');
  assert.ok(
    re.test('https://oidc.eks.us-west-2.amazonaws.com/id/B02C93B6A2D30341AD01E1B6D48164CB'),
  );
  for (const bad of [
    'https://oidc.eks.x.amazonaws.com.evil.example/id/y',
    'https://oidc.eks.a/b.amazonaws.com/id/y',
    'https://oidcXeks.us-west-2.amazonaws.com/id/y',
    'https://oidc.eks.us-west-2.amazonaws.com/id/y/z',
    'https://oidc.eks.us-west-2.amazonaws.com/id/',
    'xhttps://oidc.eks.a.amazonaws.com/id/y',
    'https://oidc.eks.a.amazonaws.com/id/y?x=1',
  ])
    assert.ok(!re.test(bad), bad);
});

test('templates: Go text/template subset with missingkey=error', () => {
  const data = { a: 'x', ref: 'main', ref_type: 'branch', 'k.io/v': 'true', empty: '' };
  const t = (src: string) => compileTemplate(src).execute(data);
  assert.equal(t('{{ .a }}/{{.ref}}'), 'x/main');
  assert.equal(
    t('refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}'),
    'refs/heads/main',
  );
  assert.equal(
    t('{{if eq .ref_type "tag"}}T{{else if eq .ref_type "branch"}}B{{else}}?{{end}}'),
    'B',
  );
  assert.equal(t('{{if eq (index . "k.io/v") "true"}}yes{{ else }}""{{end}}'), 'yes');
  assert.equal(t('{{index . "missing"}}|{{if .empty}}a{{else}}b{{end}}'), '|b');
  assert.equal(t('{{if and .a (not .empty)}}ok{{end}} {{- " trimmed"}}'), 'ok trimmed');
  assert.equal(t('<&>{{ .a }}'), '<&>x', 'no HTML escaping');
  assert.throws(() => t('{{ .nope }}'), /map has no entry for key "nope"/);
  assert.throws(() => compileTemplate('{{ if .a }}x'), /missing \{\{end\}\}/);
  assert.throws(() => compileTemplate('{{ printf "%s" .a }}'), /unsupported term "printf"/);
  assert.throws(() => compileTemplate('{{ .a | html }}'), /pipes are not supported/);
});

test('ci-provider: claims override defaults, numbers print as integers, bare names are claims', () => {
  const meta = parseIssuerConfig(FULCIO_STYLE).ciIssuerMetadata['my-circle']!;
  const p = ciPrincipal(
    meta,
    'https://oidc.circleci.com/org/o1',
    {
      'oidc.circleci.com/project-id': 'p-1',
      'oidc.circleci.com/ssh-rerun': false,
      'oidc.circleci.com/vcs-origin': 'github.com/o/r',
      api_url: 'https://circle.internal/api',
    },
    'org/o1/project/p-1/user/u',
  );
  assert.deepEqual(p.san, { type: 'uri', value: 'https://circle.internal/api/projects/p-1' });
  assert.equal(p.extensions[11], '""');
  assert.equal(p.extensions[12], 'github.com/o/r');
  const bk = parseIssuerConfig({}).ciIssuerMetadata['buildkite-job']!;
  const b = ciPrincipal(
    bk,
    'https://agent.buildkite.com',
    {
      organization_slug: 'o',
      pipeline_slug: 'p',
      build_number: 12345678901,
      job_id: 'j',
      runner_environment: 'buildkite-hosted',
      build_commit: 'c',
      build_source: 'ui',
    },
    's',
  );
  assert.equal(b.extensions[21], 'https://buildkite.com/o/p/builds/12345678901#j');
  assert.throws(
    () => ciPrincipal(bk, 'https://agent.buildkite.com', { organization_slug: 'o' }, 's'),
    /cannot build the subject alternative name.*"pipeline_slug"/,
  );
});
