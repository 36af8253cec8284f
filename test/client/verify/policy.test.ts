import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  encodeName,
  encodeTbs,
  randomSerial,
  signatureAlgorithmFor,
  signTbs,
  subjectAltNameValue,
  NAME_OID,
  type ExtensionSpec,
  type SanValue,
} from '../../../src/core/x509/build.ts';
import { OID, parseCertificate } from '../../../src/core/x509/certificate.ts';
import { encodeFulcioExtension, fulcioOid } from '../../../src/core/x509/fulcio-extensions.ts';
import {
  anchoredRegExp,
  certificateIdentities,
  checkIdentity,
  exact,
  type IdentityPolicy,
} from '../../../src/client/verify/policy.ts';
import { code } from './helpers.ts';

function cert(san: SanValue, ext: Record<number, string>, extra: ExtensionSpec[] = []) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const extensions: ExtensionSpec[] = [
    { oid: OID.subjectAltName, critical: true, value: subjectAltNameValue(san) },
    ...Object.entries(ext).map(([arc, v]) => ({
      oid: fulcioOid(Number(arc)),
      critical: false,
      value: encodeFulcioExtension(Number(arc), v),
    })),
    ...extra,
  ];
  const der = signTbs(
    encodeTbs({
      serial: randomSerial(),
      signatureAlgorithm: signatureAlgorithmFor(privateKey).der,
      issuer: encodeName([[NAME_OID.commonName, 'ca']]),
      subject: encodeName([]),
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-01-01T00:10:00Z'),
      spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
      extensions,
    }),
    privateKey,
  );
  return parseCertificate(der);
}

const ISS = 'https://issuer.example';
const policy = (san: string, extra: Partial<IdentityPolicy> = {}): IdentityPolicy => ({
  subjectAlternativeName: exact(san),
  issuer: exact(ISS),
  ...extra,
});

test('email, URI and Fulcio username SANs are identities; exact match is exact', () => {
  const e = cert({ type: 'email', value: 'alice@example.com' }, { 8: ISS });
  assert.deepEqual(certificateIdentities(e), ['alice@example.com']);
  assert.equal(
    code(() => checkIdentity(e, policy('alice@example.com'))),
    'ok',
  );
  assert.equal(
    code(() => checkIdentity(e, policy('Alice@example.com'))),
    'IDENTITY_MISMATCH',
  );
  assert.equal(
    code(() =>
      checkIdentity(e, {
        ...policy(''),
        subjectAlternativeName: { regexp: anchoredRegExp('alice@example\\.co', 'r') },
      }),
    ),
    'IDENTITY_MISMATCH',
  );
  const m = cert({ type: 'email', value: 'malice@example.com.evil' }, { 8: ISS });
  assert.equal(
    code(() =>
      checkIdentity(m, {
        ...policy(''),
        subjectAlternativeName: { regexp: anchoredRegExp('alice@example\\.com', 'r') },
      }),
    ),
    'IDENTITY_MISMATCH',
  );
  const u = cert({ type: 'username', value: 'bob!example.com' }, { 8: ISS });
  assert.deepEqual(certificateIdentities(u), ['bob!example.com']);
  assert.equal(
    code(() => checkIdentity(u, policy('bob!example.com'))),
    'ok',
  );
});

test('the issuer comes from extension .8, else the legacy .1; none at all fails', () => {
  const legacy = cert({ type: 'uri', value: 'https://x/y' }, { 1: ISS });
  assert.equal(
    code(() => checkIdentity(legacy, policy('https://x/y'))),
    'ok',
  );
  const both = cert({ type: 'uri', value: 'https://x/y' }, { 1: 'https://old', 8: ISS });
  assert.equal(
    code(() => checkIdentity(both, policy('https://x/y'))),
    'ok',
  );
  const none = cert({ type: 'uri', value: 'https://x/y' }, {});
  assert.equal(
    code(() => checkIdentity(none, policy('https://x/y'))),
    'ISSUER_MISMATCH',
  );
});

test('GitHub workflow flags read the legacy extensions, falling back to their v2 equivalents', () => {
  const v2only = cert(
    { type: 'uri', value: 'https://x/y' },
    { 8: ISS, 20: 'push', 13: 'abc', 14: 'refs/tags/v1' },
  );
  assert.equal(
    code(() =>
      checkIdentity(
        v2only,
        policy('https://x/y', {
          githubWorkflow: { trigger: 'push', sha: 'abc', ref: 'refs/tags/v1' },
        }),
      ),
    ),
    'ok',
  );
  assert.equal(
    code(() =>
      checkIdentity(v2only, policy('https://x/y', { githubWorkflow: { ref: 'refs/heads/main' } })),
    ),
    'EXTENSION_MISMATCH',
  );
  // name and repository have no v2 twin with the same value; absent means mismatch
  assert.equal(
    code(() =>
      checkIdentity(v2only, policy('https://x/y', { githubWorkflow: { repository: 'o/r' } })),
    ),
    'EXTENSION_MISMATCH',
  );
  const legacy = cert({ type: 'uri', value: 'https://x/y' }, { 8: ISS, 5: 'o/r', 4: 'release' });
  assert.equal(
    code(() =>
      checkIdentity(
        legacy,
        policy('https://x/y', { githubWorkflow: { repository: 'o/r', name: 'release' } }),
      ),
    ),
    'ok',
  );
  assert.equal(
    code(() =>
      checkIdentity(legacy, policy('https://x/y', { extensions: { [fulcioOid(5)]: 'o/r' } })),
    ),
    'ok',
  );
  assert.equal(
    code(() => checkIdentity(legacy, policy('https://x/y', { extensions: { '1.2.3.4': 'o/r' } }))),
    'EXTENSION_MISMATCH',
  );
});

test('an extension policy names one OID exactly: a longer OID is not the Fulcio arc it starts with', () => {
  const c = cert({ type: 'uri', value: 'https://x/y' }, { 8: ISS, 12: 'https://github.com/o/r' });
  const want = 'https://github.com/o/r';
  assert.equal(
    code(() => checkIdentity(c, policy('https://x/y', { extensions: { [fulcioOid(12)]: want } }))),
    'ok',
  );
  for (const oid of [`${fulcioOid(12)}.0`, `${fulcioOid(12)}.`, '1.3.6.1.4.1.57264.1.012'])
    assert.equal(
      code(() => checkIdentity(c, policy('https://x/y', { extensions: { [oid]: want } }))),
      'EXTENSION_MISMATCH',
      oid,
    );
});

test("Go's leading (?i) and (?s) become flags; the value is still matched whole", () => {
  const i = anchoredRegExp('(?i)DEV@signet\\.local', 'r');
  assert.equal(i.test('dev@signet.local'), true);
  assert.equal(i.test('Dev@Signet.Local'), true);
  assert.equal(i.test('dev@signet.local.evil'), false);
  assert.equal(i.test('xdev@signet.local'), false);
  const s = anchoredRegExp('(?is)a.b', 'r');
  assert.equal(s.test('A\nB'), true);
  assert.equal(anchoredRegExp('a.b', 'r').test('a\nb'), false);
  // (?m) would let ^ and $ match at a line inside the value: refused, as is (?U).
  for (const bad of ['(?m)dev@signet\\.local', '(?U)a+', '(?im)a'])
    assert.throws(() => anchoredRegExp(bad, '--certificate-identity-regexp'), {
      message: /^--certificate-identity-regexp: "\(\?\w+\)": of Go's inline flags only i/,
    });
  // Not at the start: JavaScript has no such group, and the message says the expression is bad.
  assert.throws(() => anchoredRegExp('a(?i)b', 'r'), /not a valid regular expression/);
});

test("Go's \\A and \\z (start and end of the text) anchor as ^ and $; \\Z, not RE2's, is refused", () => {
  const wf = anchoredRegExp('\\Ahttps://github\\.com/org/.*\\z', '--certificate-identity-regexp');
  assert.equal(
    wf.test('https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main'),
    true,
  );
  assert.equal(wf.test('xhttps://github.com/org/repo'), false);
  assert.equal(wf.test('https://github.com/organisation/repo'), false);
  // \z is the very end: not before a final newline (that would be \Z)
  const z = anchoredRegExp('\\Adev@signet\\.local\\z', 'r');
  assert.equal(z.test('dev@signet.local'), true);
  assert.equal(z.test('dev@signet.local\n'), false);
  assert.equal(z.test('dev@signet.local.evil'), false);
  // (the whole-value anchor would hide a \z taken as \Z above; here nothing may follow it)
  assert.equal(anchoredRegExp('dev@signet\\.local\\z\\n?', 'r').test('dev@signet.local\n'), false);
  assert.equal(anchoredRegExp('(?s)\\Adev@.*\\z', 'r').test('dev@x\n'), true);
  // Only where they are anchors: an escaped backslash then A is text, and in a class the
  // escape is no anchor (refused, as RE2 refuses it).
  assert.equal(anchoredRegExp('a\\\\Az', 'r').test('a\\Az'), true);
  assert.equal(anchoredRegExp('a\\\\Az', 'r').test('az'), false);
  for (const inClass of ['[\\A]x', '[a\\z]'])
    assert.throws(() => anchoredRegExp(inClass, 'r'), /r: is not a valid regular expression/);
  // One anchor of the two is enough; the other end is still anchored for you.
  assert.equal(anchoredRegExp('\\Adev@.*', 'r').test('dev@signet.local'), true);
  assert.equal(anchoredRegExp('.*@signet\\.local\\z', 'r').test('x@signet.local.evil'), false);
  assert.throws(() => anchoredRegExp('\\Adev@signet\\.local\\Z', '--certificate-identity-regexp'), {
    message:
      '--certificate-identity-regexp: is not a valid regular expression: \\Z is not RE2 (Go) syntax; \\z is the end of the text',
  });
});

test('a regexp cannot close the group that anchors it: it is refused, not matched partly', () => {
  const m = cert({ type: 'email', value: 'mallory@evil.example' }, { 8: ISS });
  // Wrapped as ^(?:…)$, this text would read ^(?:alice@example\.com)|(.*)$: "anything".
  assert.throws(
    () => anchoredRegExp('alice@example\\.com)|(.*', '--certificate-identity-regexp'),
    /--certificate-identity-regexp.*not a valid regular expression/,
  );
  assert.throws(() => anchoredRegExp('x)|(?:.*', 'r'), /not a valid regular expression/);
  // Groups and alternation of a well-formed expression stay inside the anchors.
  const both = anchoredRegExp('(alice|bob)@example\\.com|carol@example\\.com', 'r');
  assert.equal(both.test('bob@example.com'), true);
  assert.equal(both.test('carol@example.com'), true);
  assert.equal(both.test('bob@example.com.evil'), false);
  assert.equal(
    code(() => checkIdentity(m, { ...policy(''), subjectAlternativeName: { regexp: both } })),
    'IDENTITY_MISMATCH',
  );
});
