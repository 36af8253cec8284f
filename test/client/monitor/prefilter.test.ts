import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { parseMonitorConfig } from '../../../src/client/monitor/config.ts';
import { IdentityMatcher, rekorEntryFacts } from '../../../src/client/monitor/match.ts';
import { literalOf, RawPrefilter } from '../../../src/client/monitor/prefilter.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import type { SanValue } from '../../../src/core/x509/build.ts';
import {
  buildCaCertificate,
  buildPlainCertificate,
  leafTbsSpec,
} from '../../../src/core/x509/fulcio-profile.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';

const root = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = Date.now();
const ca = {
  certificate: parseCertificate(
    buildCaCertificate({
      organization: 'signet.test',
      commonName: 'test root',
      publicKeySpki: new Uint8Array(root.publicKey.export({ format: 'der', type: 'spki' })),
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 3600_000),
      selfKey: root.privateKey,
    }),
  ),
  key: root.privateKey,
};
const spki = new Uint8Array(
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    format: 'der',
    type: 'spki',
  }),
);
const cert = (san: SanValue): Buffer =>
  Buffer.from(
    buildPlainCertificate(
      ca,
      leafTbsSpec(ca, { spki, san, extensions: { 1: 'https://i.test', 8: 'https://i.test' } }),
    ),
  );

const v2 = (rawBytes: string, head = '"apiVersion":"0.0.2","kind":"hashedrekord"'): Uint8Array =>
  Buffer.from(
    `{${head},"spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"${Buffer.alloc(32, 7).toString('base64')}"},` +
      `"signature":{"content":"AAAA","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{"rawBytes":"${rawBytes}"}}}}}}`,
  );
const v1 = (der: Buffer): Uint8Array =>
  Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: '07'.repeat(32) } },
        signature: {
          content: 'AAAA',
          publicKey: { content: Buffer.from(encodePem('CERTIFICATE', der)).toString('base64') },
        },
      },
    }),
  );

/** Rekor v1's intoto 0.0.2: apiVersion 0.0.2, but the certificate in base64 PEM. */
const intoto2 = (der: Buffer): Uint8Array =>
  Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: {
        content: {
          envelope: {
            payloadType: 'application/vnd.in-toto+json',
            signatures: [
              { publicKey: Buffer.from(encodePem('CERTIFICATE', der)).toString('base64') },
            ],
          },
          payloadHash: { algorithm: 'sha256', value: '07'.repeat(32) },
        },
      },
    }),
  );
const configFor = (rules: string) => parseMonitorConfig(`monitoredValues:\n${rules}`);
function full(m: IdentityMatcher, leaf: Uint8Array): boolean {
  try {
    return m.match(rekorEntryFacts(leaf)) !== undefined;
  } catch {
    return false; // unreadable: never an alert
  }
}

test('the raw-bytes prefilter never skips an entry the full match reports, and skips the others', () => {
  // Values of every length mod 3, so the SAN sits at each base64 alignment in some certificate.
  // '?' encodes to base64 with '/' (so the URL-safe alphabet differs); 'ü' is latin1 byte 0xfc
  // in an IA5String name (set in the DER below: the CA refuses non-ASCII names).
  const watched = [
    'dev@example.com',
    'dev1@example.com',
    'dev12@example.com',
    '???????@example.com',
    'zzüü@example.com',
  ];
  const config = configFor(
    `  certIdentities:\n${watched.map((w) => `    - certSubjectExact: '${w}'\n      issuersExact: [https://i.test]\n`).join('')}` +
      `  subjects: ['https://github\\.com/org/repo/\\.github/workflows/ci\\.yml@refs/heads/main', ü-user]\n`,
  );
  const pre = RawPrefilter.for(config)!;
  assert.ok(pre, 'exact rules only: a prefilter applies');
  const m = new IdentityMatcher(config);
  let skipped = 0;
  let reported = 0;
  const sans: SanValue[] = [
    ...watched.map((value) => ({ type: 'email' as const, value: value.replaceAll('ü', 'z') })),
    { type: 'uri', value: 'https://github.com/org/repo/.github/workflows/ci.yml@refs/heads/main' },
    { type: 'username', value: 'ü-user' },
    { type: 'email', value: 'other@example.com' },
    { type: 'email', value: 'xdev@example.com' },
    { type: 'email', value: 'dev@example.co' },
  ];
  for (let pad = 0; pad < 3; pad++)
    for (const san of sans) {
      // The name lands at another byte offset when the certificate's serial or key changes.
      const der = cert(san);
      const z = der.indexOf('zzzz@example.com');
      if (z !== -1) der.fill(0xfc, z + 2, z + 4);
      const std = der.toString('base64');
      const url = der.toString('base64url');
      const escaped = std.replace(/./g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
      for (const [leaf, what] of [
        [v2(std), 'v2 standard base64'],
        [v2(url), 'v2 URL-safe base64'],
        [v2(escaped), 'v2 with a JSON escape in the certificate'],
        [v1(der), 'v1 (certificate in base64 PEM)'],
        [intoto2(der), 'intoto 0.0.2 (certificate in base64 PEM)'],
        [
          Buffer.concat([
            Buffer.from('{"x":{"kind":"hashedrekord"},'),
            Buffer.from(intoto2(der)).subarray(1),
          ]),
          'intoto 0.0.2 after a nested kind hashedrekord',
        ],
        [
          Buffer.concat([Buffer.from('{"apiVersion":"0.0.2",'), Buffer.from(v1(der)).subarray(1)]),
          'a v1 body with a second apiVersion 0.0.2 before its own',
        ],
        [v2(std.replace(/(.{5})/g, '$1 ')), 'non-strict base64 (Buffer skips the spaces)'],
      ] as const) {
        const hit = full(m, leaf);
        if (hit) reported++;
        if (!pre.mayMatch(leaf)) {
          skipped++;
          assert.equal(
            hit,
            false,
            `${what} for ${san.value}: skipped but the full match reports it`,
          );
        }
      }
      // An entry naming someone else in strict v2 form is skipped: the prefilter does filter.
      // (xdev@... holds dev@... as a substring: parsed in full, then not reported.)
      if (san.value === 'other@example.com' || san.value === 'dev@example.co')
        assert.equal(pre.mayMatch(v2(der.toString('base64'))), false, san.value);
      void pad;
    }
  assert.ok(reported >= 3 * 7 * 5, `the watched names were reported (${reported})`);
  assert.ok(skipped >= 3 * 2, `entries of others were skipped (${skipped})`);
});

test('a regexp of plain and escaped characters is the one string it matches', () => {
  const c = configFor(`  subjects: ['dev@example\\.com', 'https://x\\.test/a\\/b\\?c=\\(d\\)']\n`);
  assert.deepEqual(c.subjects.map(literalOf), ['dev@example.com', 'https://x.test/a/b?c=(d)']);
  for (const m of c.subjects) assert.ok((m as { regexp: RegExp }).regexp.test(literalOf(m)!));
});

test('no prefilter where a rule needs the parsed entry (regexp, fingerprint, extension)', () => {
  assert.equal(RawPrefilter.for(configFor(`  subjects: ['dev.*@example\\.com']\n`)), undefined);
  assert.equal(
    RawPrefilter.for(configFor(`  subjects: ['dev@example.com']\n`)),
    undefined,
    '. is any',
  );
  assert.equal(RawPrefilter.for(configFor(`  subjects: ['a|b']\n`)), undefined);
  assert.equal(RawPrefilter.for(configFor(`  subjects: ['\\w+']\n`)), undefined);
  assert.equal(
    RawPrefilter.for(
      configFor(
        `  certIdentities:\n    - certSubject: 'dev@.*'\n      issuersExact: [https://i.test]\n`,
      ),
    ),
    undefined,
  );
  assert.equal(RawPrefilter.for(configFor(`  fingerprints: [${'ab'.repeat(32)}]\n`)), undefined);
  assert.equal(
    RawPrefilter.for(
      configFor(
        `  subjects: [dev@example.com]\n  oidMatchers:\n    fulcioExtensions:\n      issuer: [https://i.test]\n`,
      ),
    ),
    undefined,
  );
});
