// The CA's `required-claims` (fulcio#1989): a private CA that trusts a shared issuer (GitHub
// Actions) issues only for the tokens whose claims it names. Real tokens from the built-in
// provider over loopback HTTP, verified by the CA's verifier; then the whole path, `signet up`
// with an issuers file and `signet sign-blob`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignetError } from '../../../../src/core/errors.ts';
import { createIdentityVerifier } from '../../../../src/services/ca/identity/verifier.ts';
import { parseIssuerConfig } from '../../../../src/services/ca/identity/config.ts';
import { startProvider, type ProviderHarness } from '../../oidc/harness.ts';
import { tempStack } from '../../../helpers/stack.ts';
import { signet } from '../../../interop/sign-helpers.ts';

let p: ProviderHarness;

before(async () => {
  p = await startProvider({
    identities: [
      { flavor: 'github', name: 'my-org/app', claims: { ref: 'refs/tags/v1.0.0' } },
      { flavor: 'github', name: 'my-org/tool' }, // ref: refs/heads/main
      { flavor: 'github', name: 'evil-org/app', claims: { ref: 'refs/tags/v1.0.0' } },
      { flavor: 'email', name: 'rel@example.com', claims: { groups: ['dev', 'release'] } },
      { flavor: 'email', name: 'dev@example.com', claims: { groups: ['dev'] } },
      { flavor: 'email', name: 'nogroups@example.com' },
      { flavor: 'buildkite', name: 'acme/widgets', claims: { build_number: 42 } },
    ],
  });
});
after(() => p.close());

/** A verifier trusting the provider's `flavor` issuer as `type`, with these required-claims (YAML). */
function verifierWith(flavor: string, type: string, required: string) {
  const iss = flavor === 'email' ? p.root : `${p.root}/${flavor}`;
  const config = parseIssuerConfig(
    `oidc-issuers:\n  ${iss}:\n    issuer-url: ${iss}\n    client-id: sigstore\n    type: ${type}\n    required-claims:\n${required.replace(/^/gm, '      ')}\n`,
    'issuers.yaml',
  );
  return createIdentityVerifier(config, { refreshCooldownMs: 0 });
}

async function refused(
  v: ReturnType<typeof verifierWith>,
  token: string,
  message: RegExp,
): Promise<void> {
  await assert.rejects(v.verify(token), (e: unknown) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.kind, 'forbidden');
    assert.equal(e.code, 'TOKEN_CLAIM_NOT_ALLOWED');
    assert.match(e.message, message);
    return true;
  });
}

describe('required-claims decide which genuine tokens get a certificate', () => {
  test('exact values and a regexp over the whole value, every one must hold', async () => {
    const v = verifierWith(
      'github',
      'github-workflow',
      "repository_owner: my-org\nref: { regexp: 'refs/tags/v[0-9].*' }",
    );
    const ok = await v.verify(await p.token('github', 'my-org/app'));
    assert.equal(ok.extensions[5], 'my-org/app');
    await refused(
      v,
      await p.token('github', 'evil-org/app'),
      /^the token's "repository_owner" claim \("evil-org"\) is not one this CA issues certificates for under http:.*\/oidc\/github$/,
    );
    // the owner holds, the ref does not: a branch build gets nothing
    await refused(
      v,
      await p.token('github', 'my-org/tool'),
      /"ref" claim \("refs\/heads\/main"\) is not one/,
    );
  });

  test('a regexp is anchored: it must match the whole claim, not a part of it', async () => {
    const v = verifierWith('github', 'github-workflow', "repository_owner: { regexp: 'my' }");
    await refused(v, await p.token('github', 'my-org/app'), /"repository_owner" claim/);
    const whole = verifierWith(
      'github',
      'github-workflow',
      "repository_owner: { regexp: 'my-.*' }",
    );
    assert.ok(await whole.verify(await p.token('github', 'my-org/app')));
  });

  test('one of a list; a list claim (groups) holds when one of its values does', async () => {
    const v = verifierWith('email', 'email', 'groups: [release, admins]');
    assert.equal(
      (await v.verify(await p.token('email', 'rel@example.com'))).challenge,
      'rel@example.com',
    );
    await refused(
      v,
      await p.token('email', 'dev@example.com'),
      /^the token's "groups" claim lists no value this CA issues certificates for under /,
    );
    await refused(
      v,
      await p.token('email', 'nogroups@example.com'),
      /^the token has no "groups" claim, which this CA requires of tokens from http:.*\/oidc$/,
    );
  });

  test('a number claim is compared by its JSON text', async () => {
    const v = verifierWith('buildkite', 'buildkite-job', "build_number: '42'");
    assert.ok(await v.verify(await p.token('buildkite', 'acme/widgets')));
    const other = verifierWith('buildkite', 'buildkite-job', "build_number: '420'");
    await refused(other, await p.token('buildkite', 'acme/widgets'), /"build_number" claim \(42\)/);
  });

  test('a malformed required-claims is refused when the configuration is read, naming the field', () => {
    const cases: Array<[string, RegExp]> = [
      ['- a', /required-claims: must map claim names to a value/],
      ['{}', /required-claims: names no claims/],
      ['repository_owner: []', /required-claims\.repository_owner: must list at least one value/],
      [
        'repository_owner: [my-org, 7]',
        /required-claims\.repository_owner: must list at least one value, each a string/,
      ],
      ["ref: { regexp: '(' }", /required-claims\.ref\.regexp: is not a regular expression/],
      [
        'ref: { regexp: 7 }',
        /required-claims\.ref\.regexp: must be a non-empty regular expression/,
      ],
      ["ref: { regex: 'x' }", /required-claims\.ref: takes one key, regexp \(got "regex"\)$/],
      ['run_number: 42', /required-claims\.run_number: must be a string: quote it \('42'\)$/],
      ['ok: true', /required-claims\.ok: must be a string: quote it \('true'\)$/],
      [
        'ref: null',
        /required-claims\.ref: must be a value, a list of values or \{ regexp: \.\.\. \} \(got null\)$/,
      ],
    ];
    for (const [yaml, message] of cases)
      assert.throws(
        () =>
          parseIssuerConfig(
            `oidc-issuers:\n  https://issuer.example:\n    type: email\n    required-claims:\n      ${yaml}\n`,
            'issuers.yaml',
          ),
        (e: unknown) => {
          assert.ok(e instanceof SignetError);
          assert.equal(e.kind, 'invalid-input');
          assert.match(
            e.message,
            /^issuers\.yaml: oidc-issuers\.https:\/\/issuer\.example\.required-claims/,
          );
          assert.match(e.message, message);
          return true;
        },
        yaml,
      );
  });
});

test('signet up with required-claims: a token of another organisation gets HTTP 403 and one line, and nothing is issued', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-required-'));
  const iss = `${p.root}/github`;
  fs.writeFileSync(
    path.join(dir, 'issuers.yaml'),
    `oidc-issuers:\n  ${iss}:\n    issuer-url: ${iss}\n    client-id: sigstore\n    type: github-workflow\n    required-claims:\n      repository_owner: my-org\n`,
  );
  fs.writeFileSync(path.join(dir, 'a.txt'), 'release\n');
  const stack = await tempStack({ config: { ca: { issuers: path.join(dir, 'issuers.yaml') } } });
  try {
    const sth = async () =>
      ((await (await fetch(`${stack.url}/ctlog/ct/v1/get-sth`)).json()) as { tree_size: number })
        .tree_size;
    const sign = async (who: string) =>
      signet(
        [
          'sign-blob',
          '--server',
          stack.url,
          '--identity-token',
          await p.token('github', who),
          '--bundle',
          `${who.replace('/', '-')}.json`,
          'a.txt',
        ],
        { cwd: dir },
      );
    const ok = await sign('my-org/app');
    assert.equal(ok.status, 0, ok.stderr);
    const issued = await sth();
    assert.equal(issued, 1);
    const no = await sign('evil-org/app');
    assert.equal(no.status, 1, no.stderr);
    assert.match(
      no.stderr,
      /^error: the CA \(Fulcio\) at .* answered HTTP 403: the token's "repository_owner" claim \("evil-org"\) is not one this CA issues certificates for under http:.*\/oidc\/github\n$/m,
    );
    assert.equal(no.stderr.split('\n').filter((l) => l.startsWith('error')).length, 1);
    assert.equal(fs.existsSync(path.join(dir, 'evil-org-app.json')), false);
    assert.equal(await sth(), issued, 'no precertificate was logged for the refused token');
  } finally {
    await stack.close();
  }
});
