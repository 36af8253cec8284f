/**
 * An entry the log holds that cannot be read as its kind says is an alert (`"type":"entry"`),
 * as rekor-monitor notifies its failed entries: a log admits no such body, so it is an anomaly
 * to look at. An entry of a kind Signet does not read (rpm, a PGP rekord) is only counted on
 * stderr. The bodies are appended to the stack's log engine directly, past the admission
 * checks that would refuse them, as a faulty or hostile log would hold them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { monitorCli, watchedStack } from './watched-stack.ts';

test('a malformed entry in the log is an alert naming it; an entry of a kind not read is a count on stderr', async () => {
  const { stack, dir, rootFile, shard } = await watchedStack('signet-unreadable-');
  try {
    const engine = stack.services.rekor!.shards.current.engine;
    const append = async (text: string) =>
      (await engine.append({ leaf: new TextEncoder().encode(text) })).index;
    const v2 = (rawBytes: string) =>
      JSON.stringify({
        apiVersion: '0.0.2',
        kind: 'hashedrekord',
        spec: {
          hashedRekordV002: {
            data: { algorithm: 'SHA2_256', digest: 'AAAA' },
            signature: { content: 'AAAA', verifier: { x509Certificate: { rawBytes } } },
          },
        },
      });
    // A "certificate" that holds the watched name but is no DER: it may name dev@signet.local.
    const badCertificate = await append(
      v2(Buffer.from('\u0030 not DER, for dev@signet.local').toString('base64')),
    );
    // Bytes that cannot hold the watched name are not read at all (the raw prefilter), so
    // they are no alert for this config, malformed or not.
    await append(v2('!!!'));
    const notJson = await append('not a rekor entry');
    await append(JSON.stringify({ apiVersion: '0.0.1', kind: 'rpm', spec: {} }));

    const r = await monitorCli(
      [
        '--trusted-root',
        rootFile,
        '--url',
        shard,
        '--state',
        path.join(dir, 'state.json'),
        '--once',
        '--config',
        'startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n',
      ],
      60_000,
    );
    // Alerts to look at: exit 2, as for a match.
    assert.equal(r.status, 2, r.stderr);
    const alerts = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      alerts.map((a) => a.type),
      ['identity', 'entry', 'entry'],
    );
    const [, cert, json] = alerts;
    assert.equal(cert!.logIndex, badCertificate);
    assert.equal(cert!.log, shard);
    assert.equal(cert!.error, 'certificate: DER is truncated: the element needs 32 bytes');
    assert.equal(json!.logIndex, notJson);
    assert.equal(json!.error, 'entry: is not JSON');
    assert.match(String(json!.entryUrl), new RegExp(`${notJson}`));
    // The rpm entry: counted, not an alert.
    assert.match(r.stderr, /"unreadable":1\b/);
  } finally {
    await stack.close();
  }
});
