import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMonitorConfig } from '../../../src/client/monitor/config.ts';
import { IdentityMatcher } from '../../../src/client/monitor/match.ts';

test('rekor-monitor config shape: regexps anchored to the whole value, exact forms, OID matchers', () => {
  const c = parseMonitorConfig(`
startIndex: 5
endIndex: 9
monitoredValues:
  certIdentities:
    - certSubject: dev@example\\.com
      issuers: ['https://accounts\\.example\\.com']
    - certSubjectExact: ops@example.com
  subjects: ['.*@corp\\.example']
  fingerprints: [${'AB'.repeat(32)}]
  oidMatchers:
    fulcioExtensions:
      build-config-uri: [https://example.com/build.yml]
      issuer: [https://issuer.example]
    oidExtensions:
      - objectIdentifier: [1, 3, 6, 1, 4, 1, 57264, 1, 9]
        extensionValues: [v]
    customExtensions:
      - objectIdentifier: 1.2.3.4
        extensionValues: [w]
`);
  assert.equal(c.startIndex, 5);
  assert.equal(c.endIndex, 9);
  const re = c.certIdentities[0]!.subject as { regexp: RegExp };
  assert.ok(re.regexp.test('dev@example.com'));
  assert.ok(!re.regexp.test('evildev@example.com'), 'anchored at the start');
  assert.ok(!re.regexp.test('dev@example.com.attacker'), 'anchored at the end');
  assert.deepEqual(c.certIdentities[1]!.subject, {
    exact: 'ops@example.com',
    pattern: 'ops@example.com',
  });
  assert.equal(c.fingerprints[0], 'ab'.repeat(32));
  assert.deepEqual(
    c.oidMatchers.map((o) => o.oid),
    [
      '1.3.6.1.4.1.57264.1.18',
      '1.3.6.1.4.1.57264.1.8',
      '1.3.6.1.4.1.57264.1.1',
      '1.3.6.1.4.1.57264.1.9',
      '1.2.3.4',
    ],
  );
  // JSON works too, and an empty file watches nothing.
  assert.equal(parseMonitorConfig('{"monitoredValues":{"subjects":["a"]}}').subjects.length, 1);
  assert.equal(
    new IdentityMatcher(parseMonitorConfig('')).match({
      kind: 'x',
      signers: [],
      digest: () => undefined,
    }),
    undefined,
  );
});

test('bad configs are refused with the field and the reason', () => {
  const bad: Array<[string, RegExp]> = [
    [
      'monitoredValues:\n  subjects: ["(unclosed"]',
      /monitoredValues\.subjects\[0\]: is not a valid regular expression/,
    ],
    [
      'monitoredValues:\n  certIdentities:\n    - certSubject: "a["',
      /certIdentities\[0\]\.certSubject: is not a valid regular expression/,
    ],
    ['monitoredValues:\n  certIdentities:\n    - issuers: [x]', /needs exactly one of certSubject/],
    [
      'monitoredValues:\n  certIdentities:\n    - certSubject: a\n      issuer: x',
      /certIdentities\[0\]\.issuer: is not a known field/,
    ],
    ['monitoredValue: {}', /monitoredValue: is not a known field/],
    ['logInfoFile: x', /logInfoFile: is a rekor-monitor option/],
    ['startIndex: -1', /startIndex: must be a non-negative integer/],
    ['startIndex: 5\nendIndex: 1', /endIndex: is before startIndex/],
    ['monitoredValues:\n  fingerprints: [abc]', /fingerprints\[0\]: must be a hex SHA-256/],
    [
      'monitoredValues:\n  oidMatchers:\n    fulcioExtensions:\n      no-such-thing: [x]',
      /is not a Fulcio extension name/,
    ],
    [
      'monitoredValues:\n  oidMatchers:\n    customExtensions:\n      - objectIdentifier: 1.x\n        extensionValues: [x]',
      /must be an object identifier/,
    ],
    [
      'monitoredValues:\n  oidMatchers:\n    customExtensions:\n      - objectIdentifier: 1.2.3\n        extensionValues: []',
      /needs at least one value/,
    ],
    ['a: [', /is not YAML or JSON/],
    ['- 1', /must be a mapping/],
    ['startIndex: 1\nstartIndex: 2', /is not YAML or JSON/],
    [
      'startIndex: 1\n---\nstartIndex: 2',
      /watch\.yaml: is not YAML or JSON: it holds 2 documents, one is expected/,
    ],
    ['a: *nowhere', /watch\.yaml: is not YAML or JSON: Unresolved alias/],
  ];
  for (const [text, want] of bad)
    assert.throws(() => parseMonitorConfig(text, 'watch.yaml'), want, text);
});

test('scalars are the text written, as rekor-monitor reads them: numeric IDs, OIDs, digits-only values', () => {
  const digits = '1'.repeat(64);
  const c = parseMonitorConfig(`
startIndex: 7
monitoredValues:
  subjects: [12345]
  fingerprints: [${digits}]
  oidMatchers:
    fulcioExtensions:
      source-repository-identifier: [71096353, 01234]
      build-trigger: [true]
    customExtensions:
      - objectIdentifier: 2.5
        extensionValues: [1e3]
`);
  assert.equal(c.startIndex, 7);
  assert.equal(c.subjects[0]!.pattern, '12345');
  assert.deepEqual(c.fingerprints, [digits]);
  assert.deepEqual(
    c.oidMatchers.map((o) => [o.oid, o.values]),
    [
      ['1.3.6.1.4.1.57264.1.15', ['71096353', '01234']],
      ['1.3.6.1.4.1.57264.1.20', ['true']],
      ['2.5', ['1e3']],
    ],
  );
  assert.equal(parseMonitorConfig('{"startIndex": 3, "endIndex": 4}').endIndex, 4);
  for (const bad of ['startIndex: 1.5', 'startIndex: 1e3', 'startIndex: x', 'endIndex: 007'])
    assert.throws(() => parseMonitorConfig(bad), /Index: must be a non-negative integer/, bad);
  assert.throws(
    () =>
      parseMonitorConfig(
        'monitoredValues:\n  oidMatchers:\n    oidExtensions:\n      - objectIdentifier: [1, -3]\n        extensionValues: [x]',
      ),
    /oidExtensions\[0\]\.objectIdentifier\[1\]: must be a non-negative integer/,
  );
});
