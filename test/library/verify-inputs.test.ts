/**
 * The library's verify() as a plain-JavaScript caller meets it: no compiler holds the caller to
 * the declared types, so what is not a policy, a bundle, an artifact or a trusted root must be
 * refused with a one-line SignetError naming it, and never verify what it should not. Offline:
 * a public-good bundle from the conformance fixtures, signed by the conformance beacon workflow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  attest,
  identityPolicy,
  keyPolicy,
  loadTrustedRoot,
  parseBundleJSON,
  parseTrustedRootJSON,
  SignetError,
  sign,
  signMany,
  unsafeAnyIdentityPolicy,
  verify,
  type SignerPolicy,
  type VerificationResult,
} from '../../src/index.ts';
import { verifyBundle } from '../../src/client/verify/verifier.ts';

const C = path.resolve('test/fixtures/conformance');
const bundleText = fs.readFileSync(
  path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json'),
  'utf8',
);
const artifact = fs.readFileSync(path.join(C, 'bundle-verify/a.txt'));
const trustedRoot = parseTrustedRootJSON(
  fs.readFileSync(path.join(C, 'trust-roots/production/trusted_root.json'), 'utf8'),
);
const signer =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const issuer = 'https://token.actions.githubusercontent.com';
const keyPem = fs.readFileSync(
  path.join(C, 'bundle-verify/managed-key-happy-path/key.pub'),
  'utf8',
);

/** The SignetError a call rejects with (fails the test on success or on any other error). */
async function refusal(p: Promise<unknown>): Promise<SignetError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SignetError, `not a SignetError: ${String(e)}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return e;
  }
  assert.fail('verified, but must have been refused');
}

/** What JavaScript lets a caller pass where a policy belongs. */
const untyped = (v: unknown) => v as SignerPolicy;

test('the right identity verifies (the fixture is good)', async () => {
  const r: VerificationResult = await verify(bundleText, artifact, {
    trustedRoot,
    policy: identityPolicy({ identity: signer, issuer }),
  });
  assert.equal(r.signer.kind, 'certificate');
});

test('a policy that is not a signer policy is refused, never read as "any signer"', async () => {
  const cases: Array<[string, unknown, RegExp]> = [
    // keyPolicy is async: forgetting await hands verify a Promise
    ['un-awaited keyPolicy', keyPolicy(keyPem), /options\.policy: is a Promise: .*await/],
    ['empty object', {}, /options\.policy: is not a signer policy \(kind undefined\)/],
    [
      "sigstore-js's options",
      { certificateIdentityEmail: 'someone@example.com', certificateIssuer: issuer },
      /not a signer policy.*sigstore-js's certificateIdentity\*\/certificateIssuer/,
    ],
    ['unknown kind', { kind: 'email', identity: 'x' }, /kind "email"/],
    ['missing', undefined, /options\.policy: is required/],
    ['null', null, /options\.policy: is required/],
    ['a string', signer, /is not a signer policy \("https:/],
    [
      'identity kind without identity',
      { kind: 'identity' },
      /options\.policy\.identity: is undefined/,
    ],
    ['identities kind, empty', { kind: 'identities', identities: [] }, /non-empty list/],
    [
      'key kind with PEM text',
      { kind: 'key', key: keyPem },
      /options\.policy\.key: .*keyPolicy\(pem\)/,
    ],
  ];
  for (const [name, policy, message] of cases) {
    const e = await refusal(verify(bundleText, artifact, { trustedRoot, policy: untyped(policy) }));
    assert.equal(e.code, 'INVALID_INPUT', name);
    assert.match(e.message, message, name);
  }
});

test('verify without options says what to give', async () => {
  const call = verify as (...args: unknown[]) => Promise<unknown>;
  const e = await refusal(call(bundleText, artifact));
  assert.match(e.message, /^options: is undefined; give \{ trustedRoot, policy \}$/);
});

test('the verifier itself fails closed on a policy of no known kind', () => {
  const b = parseBundleJSON(bundleText);
  assert.throws(
    () =>
      verifyBundle(b, { kind: 'bytes', data: artifact }, trustedRoot, untyped({ kind: 'bogus' })),
    (e: unknown) => e instanceof SignetError && e.code === 'POLICY_INVALID',
  );
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a hand-built policy regexp matches the whole value, as identityPolicy promises', async () => {
  // "extremely-dangerous" is only part of the signer's identity, "github" part of the issuer
  const partial = untyped({
    kind: 'identity',
    identity: {
      subjectAlternativeName: { regexp: /extremely-dangerous/ },
      issuer: { regexp: /github/ },
    },
  });
  const e = await refusal(verify(bundleText, artifact, { trustedRoot, policy: partial }));
  assert.equal(e.code, 'IDENTITY_MISMATCH');
  const anyOf = untyped({
    kind: 'identities',
    identities: [{ subjectAlternativeName: { regexp: /https/ }, issuer: { exact: issuer } }],
  });
  assert.equal(
    (await refusal(verify(bundleText, artifact, { trustedRoot, policy: anyOf }))).code,
    'IDENTITY_MISMATCH',
  );
  const whole = untyped({
    kind: 'identity',
    identity: {
      subjectAlternativeName: { regexp: /https:\/\/github\.com\/sigstore-conformance\/.*/ },
      issuer: { exact: issuer },
    },
  });
  await verify(bundleText, artifact, { trustedRoot, policy: whole });
  // identityPolicy's regexp, refused: the message shows it anchored once, with the hint that
  // it matches only a part
  const mismatch = await refusal(
    verify(bundleText, artifact, {
      trustedRoot,
      policy: identityPolicy({ identity: /extremely-dangerous/, issuer }),
    }),
  );
  assert.equal(mismatch.code, 'IDENTITY_MISMATCH');
  assert.match(mismatch.message, / a value matching \^\(\?:extremely-dangerous\)\$/);
  assert.doesNotMatch(mismatch.message, /\^\(\?:\^/);
  assert.match(mismatch.message, /matches only part/);
});

test("identityPolicy keeps a RegExp's i flag, refuses m, and names a missing or wrong field", async () => {
  const upper = new RegExp(escape(signer.toUpperCase()), 'i');
  await verify(bundleText, artifact, {
    trustedRoot,
    policy: identityPolicy({ identity: upper, issuer }),
  });
  const make = identityPolicy as (p: unknown) => SignerPolicy;
  const cases: Array<[unknown, RegExp]> = [
    [
      { identity: /.*/m, issuer },
      /^identity: \/\.\*\/m: the m flag would let \^ and \$ match at any line/,
    ],
    [{ identity: signer }, /^issuer: is undefined; give a string \(exact\), a RegExp/],
    [{ issuer }, /^identity: is undefined;/],
    [{ identity: 5, issuer }, /^identity: is 5;/],
    [{ identity: { regexp: 5 }, issuer }, /^identity: is an object;/],
    [undefined, /^policy: is undefined; give \{ identity, issuer \}$/],
    [
      { identity: signer, issuer, githubWorkflow: { repo: 'org/x' } },
      /^githubWorkflow\.repo: is not a GitHub workflow field; the fields are trigger, sha, name, repository, ref$/,
    ],
    [
      { identity: signer, issuer, extensions: { '1.3.6.1.4.1.57264.1.12': /x/ } },
      /^extensions\.1\.3\.6\.1\.4\.1\.57264\.1\.12: is an object; the value must be a string/,
    ],
  ];
  for (const [input, message] of cases) {
    let err: unknown;
    try {
      make(input);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SignetError, `${String(err)} for ${message}`);
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, message);
  }
});

test('the trusted root: parsed, or its JSON value; anything else is refused by name', async () => {
  const rootText = fs.readFileSync(
    path.join(C, 'trust-roots/production/trusted_root.json'),
    'utf8',
  );
  const policy = identityPolicy({ identity: signer, issuer });
  const asJson = JSON.parse(rootText) as typeof trustedRoot;
  assert.equal(
    (await verify(bundleText, artifact, { trustedRoot: asJson, policy })).signer.kind,
    'certificate',
  );
  const root = (v: unknown) => v as typeof trustedRoot;
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /^options\.trustedRoot: is required: .*loadTrustedRoot\(\)/],
    [
      Promise.resolve(trustedRoot),
      /^options\.trustedRoot: is a Promise: loadTrustedRoot\(\) is async, so await it$/,
    ],
    [
      'trusted_root.json',
      /^options\.trustedRoot: is a string, not a trusted root; read a file with loadTrustedRoot\(\{ trustedRoot: path \}\)/,
    ],
    [rootText, /is a string, not a trusted root;.*parseTrustedRootJSON\(text\)$/],
    [{}, /^options\.trustedRoot: is not a trusted root: mediaType: is required but missing$/],
    [{ ...asJson, tlogs: 'none' }, /^options\.trustedRoot: is not a trusted root: tlogs: /],
  ];
  for (const [value, message] of cases) {
    const e = await refusal(verify(bundleText, artifact, { trustedRoot: root(value), policy }));
    assert.equal(e.code, 'INVALID_INPUT', String(message));
    assert.match(e.message, message);
  }
});

test('the bundle: parsed, JSON text, JSON bytes or JSON value; a look-alike is parsed strictly', async () => {
  const policy = identityPolicy({ identity: signer, issuer });
  const parsed = parseBundleJSON(bundleText);
  for (const b of [parsed, bundleText, Buffer.from(bundleText), JSON.parse(bundleText) as object])
    await verify(b, artifact, { trustedRoot, policy });
  // a copy of a parsed bundle is no longer known to be one: written out and parsed again
  await verify(structuredClone(parsed), artifact, { trustedRoot, policy });
  const json = JSON.parse(bundleText) as Record<string, unknown>;
  const cases: Array<[unknown, RegExp]> = [
    [null, /^bundle: is null; give a bundle: parsed, its JSON text or bytes, or its JSON value$/],
    [42, /^bundle: is 42;/],
    [Promise.resolve(parsed), /^bundle: is a Promise: sign\(\) and attest\(\) are async/],
    // JSON that carries the parsed form's keys is not taken for a parsed bundle
    [
      {
        ...json,
        version: '0.3',
        content: { $case: 'messageSignature', messageSignature: json.messageSignature },
      },
      /^bundle: is neither a parsed bundle nor its JSON value$/,
    ],
    [{ ...json, content: {} }, /^(bundle: is neither|content: is not a known field)/],
    [Buffer.from([0xff, 0xfe]), /^bundle: is not UTF-8 text$/],
  ];
  for (const [value, message] of cases) {
    const e = await refusal(verify(value as object, artifact, { trustedRoot, policy }));
    assert.equal(e.code, 'INVALID_INPUT', String(message));
    assert.match(e.message, message);
  }
});

test('the artifact: bytes or an Artifact; text, an ArrayBuffer or a hex digest is refused by name', async () => {
  const policy = identityPolicy({ identity: signer, issuer });
  const digest = new Uint8Array(crypto.createHash('sha256').update(artifact).digest());
  await verify(
    bundleText,
    { kind: 'digest', algorithm: 'sha256', digest },
    { trustedRoot, policy },
  );
  const cases: Array<[unknown, RegExp]> = [
    [
      artifact.toString(),
      /^artifact: is ".*", not bytes; give a Uint8Array or Buffer \(new TextEncoder\(\)\.encode\(text\) for text\)$/,
    ],
    [
      new Uint8Array(artifact).buffer,
      /^artifact: is an ArrayBuffer, not bytes; .*\(new Uint8Array\(buffer\)\)$/,
    ],
    [undefined, /^artifact: is undefined, not bytes/],
    [
      { kind: 'digest', algorithm: 'sha256', digest: Buffer.from(digest).toString('hex') },
      /^artifact\.digest: is "[0-9a-f]+", not bytes; give a Uint8Array or Buffer \(Buffer\.from\(hex, 'hex'\) for a hex digest\)$/,
    ],
    [
      { kind: 'digest', algorithm: 'sha256', digest: digest.subarray(1) },
      /^artifact\.digest: is 31 bytes; a sha256 digest is 32$/,
    ],
    [
      { kind: 'digest', algorithm: 'md5', digest },
      /^artifact\.algorithm: is "md5"; give sha256, sha384 or sha512$/,
    ],
  ];
  for (const [value, message] of cases) {
    const e = await refusal(verify(bundleText, value as Uint8Array, { trustedRoot, policy }));
    assert.equal(e.code, 'INVALID_INPUT', String(message));
    assert.match(e.message, message);
  }
});

test('sign and attest refuse what is not bytes before any request', async () => {
  const server = 'http://127.0.0.1:9'; // never asked: the input is refused first
  const signAny = sign as (a: unknown, o: object) => Promise<unknown>;
  const attestAny = attest as (s: unknown, t: string, p: unknown, o: object) => Promise<unknown>;
  const signManyAny = signMany as (a: unknown, o: object) => Promise<unknown>;
  const cases: Array<[Promise<unknown>, RegExp]> = [
    [signAny('hello', { server }), /^artifact: is "hello", not bytes;/],
    [signManyAny([artifact, 'x'], { server }), /^artifacts\[1\]: is "x", not bytes;/],
    [signManyAny(artifact, { server }), /^artifacts: is not an array/],
    [
      attestAny({ name: 'a.txt', data: 'x' }, 'slsaprovenance1', {}, { server }),
      /^subject\.data: is "x", not bytes;/,
    ],
    [attestAny(artifact, 'slsaprovenance1', {}, { server }), /^subject\.name: is undefined/],
    [
      attestAny(undefined, 'slsaprovenance1', {}, { server }),
      /^subject: is undefined; give \{ name, data \}$/,
    ],
  ];
  for (const [p, message] of cases) {
    const e = await refusal(p);
    assert.equal(e.code, 'INVALID_INPUT', String(message));
    assert.match(e.message, message);
  }
});

test('an unknown option or policy field is refused, not ignored', async () => {
  const signAny = sign as (a: unknown, o: object) => Promise<unknown>;
  const policy = identityPolicy({ identity: signer, issuer });
  const make = identityPolicy as (p: unknown) => SignerPolicy;
  const cases: Array<[() => Promise<unknown>, RegExp]> = [
    // a misspelt server must not fall back to the public-good instance with the token
    [
      () => signAny(artifact, { sever: 'http://127.0.0.1:9', identityToken: 'x' }),
      /^options\.sever: is not known here \(server, signingConfig, /,
    ],
    [
      () => loadTrustedRoot({ sever: 'http://127.0.0.1:9' } as object),
      /^options\.sever: is not known here \(trustedRoot, server, tufRoot, offline, onEvent are\)$/,
    ],
    [
      () =>
        verify(bundleText, artifact, { trustedRoot, policy, certificateIssuer: issuer } as never),
      /^options\.certificateIssuer: is not known here/,
    ],
    // a misspelt restriction would otherwise let any workflow of the identity through
    [
      async () => make({ identity: signer, issuer, githubWorkflowRef: 'refs/heads/main' }),
      /^policy\.githubWorkflowRef: is not known here \(identity, issuer, githubWorkflow, extensions are\)$/,
    ],
    [
      () =>
        verify(bundleText, artifact, {
          trustedRoot,
          policy: untyped({
            kind: 'identity',
            identity: {
              subjectAlternativeName: { exact: signer },
              issuer: { exact: issuer },
              extension: { '1.3.6.1.4.1.57264.1.12': 'x' },
            },
          }),
        }),
      /^options\.policy\.identity\.extension: is not known here/,
    ],
  ];
  for (const [call, message] of cases) {
    const e = await refusal(call());
    assert.equal(e.code, 'INVALID_INPUT', String(message));
    assert.match(e.message, message);
  }
});

test('a policy that accepts any signer is only the one unsafeAnyIdentityPolicy() made: a hand-built, parsed or copied one is refused', async () => {
  const made = unsafeAnyIdentityPolicy();
  assert.ok(Object.isFrozen(made));
  const r = await verify(bundleText, artifact, { trustedRoot, policy: made });
  assert.equal(r.signer.kind, 'certificate');
  // A policy that matches anyone must be asked for: data (a config file, a request) or a copy
  // cannot say it.
  const cases: Array<[string, unknown]> = [
    ['hand-built', { kind: 'anyIdentity' }],
    ['parsed from JSON', JSON.parse('{"kind":"anyIdentity"}')],
    ['a copy', { ...made }],
    ['a structured clone', structuredClone(made)],
  ];
  for (const [name, policy] of cases) {
    const e = await refusal(verify(bundleText, artifact, { trustedRoot, policy: untyped(policy) }));
    assert.equal(e.code, 'INVALID_INPUT', name);
    assert.equal(
      e.message,
      'options.policy: is an anyIdentity policy unsafeAnyIdentityPolicy() did not make; a policy that accepts any signer must be asked for by calling it',
      name,
    );
  }
});

test('a trusted root is taken as it is only when parseTrustedRoot made it: a look-alike is written out and parsed strictly', async () => {
  const policy = identityPolicy({ identity: signer, issuer });
  // a copy (a worker's postMessage, structuredClone) is no longer known to be parsed, and still verifies
  const copy = structuredClone(trustedRoot);
  assert.equal(
    (await verify(bundleText, artifact, { trustedRoot: copy, policy })).signer.kind,
    'certificate',
  );
  // Built by hand, as `new Date(ca.validFor.end)` does with a misspelt field: an Invalid Date
  // ends no window, so the CAs would be trusted at every time. The parser never makes one.
  const withWindow = (end: Date) =>
    ({
      ...trustedRoot,
      certificateAuthorities: trustedRoot.certificateAuthorities.map((ca) => ({
        ...ca,
        validFor: { start: ca.validFor.start, end },
      })),
    }) as typeof trustedRoot;
  // A window that ended before the signature: the CA is not trusted then (the check works).
  const ended = await refusal(
    verify(bundleText, artifact, {
      trustedRoot: withWindow(new Date('2024-01-01T00:00:00Z')),
      policy,
    }),
  );
  assert.equal(ended.code, 'CERTIFICATE_CA_NOT_VALID', ended.message);
  const invalidEnd = await refusal(
    verify(bundleText, artifact, { trustedRoot: withWindow(new Date('not a date')), policy }),
  );
  assert.equal(invalidEnd.code, 'INVALID_INPUT');
  assert.equal(
    invalidEnd.message,
    'options.trustedRoot: is not a trusted root parseTrustedRoot made, and cannot be written out as one to parse: a time in it is not a valid Date',
  );
  // JSON that carries the parsed form's shape is parsed too: its media type is checked.
  const shaped = {
    mediaType: 'x',
    tlogs: [],
    ctlogs: [],
    certificateAuthorities: [],
    timestampAuthorities: [],
  };
  const e = await refusal(verify(bundleText, artifact, { trustedRoot: shaped as never, policy }));
  assert.match(
    e.message,
    /^options\.trustedRoot: is not a trusted root: mediaType: "x" is not a supported trusted root media type$/,
  );
});

test('a threshold that is not a whole number is refused, never read as "none required"', async () => {
  const policy = identityPolicy({ identity: signer, issuer });
  // NaN compares false with everything: `entries < NaN` would waive the log entry.
  for (const key of [
    'tlogThreshold',
    'ctlogThreshold',
    'timestampThreshold',
    'signedTimestampThreshold',
  ])
    for (const bad of [Number.NaN, -1, 0.5, '1', Infinity]) {
      const e = await refusal(
        verify(bundleText, artifact, { trustedRoot, policy, [key]: bad as number }),
      );
      assert.equal(e.code, 'INVALID_INPUT', `${key} ${String(bad)}`);
      assert.match(
        e.message,
        new RegExp(`^options\\.${key}: is .*; give a whole number, 0 or more$`),
      );
    }
  await verify(bundleText, artifact, { trustedRoot, policy, ctlogThreshold: 0 });
});
