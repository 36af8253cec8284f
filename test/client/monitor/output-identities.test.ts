/**
 * rekor-monitor's `outputIdentities`: found identities appended to a file in rekor-monitor's
 * shape (JSON lines of its LogEntry, or text), so tooling that reads that file keeps working.
 * Against a stack in which dev@signet.local signed; each identity is written once, and a file
 * that cannot be written is tried again on the next pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { watchedStack } from './watched-stack.ts';
import { monitorFromFlags } from '../../../src/client/monitor/setup.ts';
import { parseMonitorConfig } from '../../../src/client/monitor/config.ts';

test('outputIdentities: rekor-monitor JSON lines or text, once each, retried when not writable', async () => {
  const { stack, dir, rootFile, shard, bundle } = await watchedStack('signet-output-identities-');
  try {
    const index = Number(bundle.verificationMaterial.tlogEntries[0]!.logIndex);
    const issuer = `${stack.url}/oidc`;
    const rules = [
      'monitoredValues:',
      '  certIdentities:',
      '    - certSubject: dev@signet\\.local',
      `      issuers: ['${issuer.replaceAll('.', '\\.')}']`,
      '  subjects: [dev@signet\\.local]',
      '  oidMatchers:',
      `    fulcioExtensions: { issuer: ['${issuer}'] }`,
    ];
    const pass = async (file: string, extra: string[] = []) => {
      const config = path.join(dir, 'watch.yaml');
      fs.writeFileSync(
        config,
        ['startIndex: 0', `outputIdentities: ${file}`, ...extra, ...rules, ''].join('\n'),
      );
      const m = await monitorFromFlags(
        {
          trustedRoot: rootFile,
          config,
          log: [shard],
          state: path.join(dir, `${path.basename(file)}.state`),
        },
        { print: () => {}, report: () => {} },
      );
      return m.pass();
    };

    // Not writable (no such folder): an error, and the identity stays to be written.
    const json = path.join(dir, 'later', 'identities.json');
    const failed = await pass(json);
    assert.equal(failed.matched, 1);
    assert.equal(failed.errors, 1);
    fs.mkdirSync(path.dirname(json));
    assert.equal((await pass(json)).errors, 0);
    const issuerOid = [1, 3, 6, 1, 4, 1, 57264, 1];
    const blank = {
      CertSubject: '',
      Issuer: '',
      Fingerprint: '',
      Subject: '',
      Index: index,
      UUID: '',
    };
    const want = [
      {
        MatchedIdentity: {
          certSubject: 'dev@signet\\.local',
          issuers: [issuer.replaceAll('.', '\\.')],
          type: 'certIdentity',
        },
        ...blank,
        CertSubject: 'dev@signet.local',
        Issuer: issuer,
        OIDExtension: null,
        ExtensionValue: '',
      },
      {
        MatchedIdentity: { subject: 'dev@signet\\.local', type: 'subject' },
        ...blank,
        Subject: 'dev@signet.local',
        OIDExtension: null,
        ExtensionValue: '',
      },
      ...[8, 1].map((arc) => ({
        MatchedIdentity: {
          extensionValues: [issuer],
          oid: [...issuerOid, arc],
          type: 'oidExtension',
        },
        ...blank,
        OIDExtension: [...issuerOid, arc],
        ExtensionValue: issuer,
      })),
    ];
    const lines = fs.readFileSync(json, 'utf8');
    // Field order as Go writes the struct (and the map's keys sorted).
    assert.equal(lines, want.map((w) => `${JSON.stringify(w)}\n`).join(''));
    // Nothing new: nothing appended.
    await pass(json);
    assert.equal(fs.readFileSync(json, 'utf8'), lines);

    // Text, as the extension says (or outputIdentitiesFormat): rekor-monitor's values, then the
    // log the entry is in (a monitor may follow several into one file).
    for (const [file, extra] of [
      [path.join(dir, 'identities.txt'), []],
      [path.join(dir, 'identities.log'), ['outputIdentitiesFormat: text']],
    ] as const) {
      await pass(file, [...extra]);
      assert.equal(
        fs.readFileSync(file, 'utf8'),
        [
          `dev@signet.local ${issuer} ${index} ${shard}`,
          `dev@signet.local ${index} ${shard}`,
          `${index} 1.3.6.1.4.1.57264.1.8 ${issuer} ${shard}`,
          `${index} 1.3.6.1.4.1.57264.1.1 ${issuer} ${shard}`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    await stack.close();
  }
});

test('outputIdentities settings are checked', () => {
  assert.deepEqual(parseMonitorConfig('outputIdentities: ids.json').outputIdentities, {
    file: 'ids.json',
    format: 'json',
  });
  assert.throws(
    () => parseMonitorConfig('outputIdentities: ids\noutputIdentitiesFormat: xml'),
    /^.*outputIdentitiesFormat: must be text or json$/,
  );
  assert.throws(
    () => parseMonitorConfig('outputIdentitiesFormat: json'),
    /outputIdentitiesFormat: needs outputIdentities/,
  );
  assert.throws(
    () => parseMonitorConfig('outputIdentities: [a]'),
    /outputIdentities: must be a non-empty string/,
  );
});
