/**
 * A Rekor v1 log numbers its entries across its shards (`logIndex` is global; the active
 * shard's tree starts at the sizes of the inactive ones added up), as rekor-monitor's
 * startIndex/endIndex and `rekor-cli get --log-index` do. The monitor follows the active
 * shard's tree: its alerts and the config's indices must use the log's numbering, not the tree's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { startStack } from '../../../src/services/stack.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import { parseMonitorConfig } from '../../../src/client/monitor/config.ts';
import { Monitor } from '../../../src/client/monitor/monitor.ts';
import { RekorV1Source } from '../../../src/client/monitor/sources.ts';
import { parseTrustedRoot } from '../../../src/bundle/trusted-root.ts';
import type { IdentityAlert } from '../../../src/client/monitor/alerts.ts';

const quiet = { info() {}, warn() {}, error() {} };

async function signV1(url: string, text: string): Promise<number> {
  const ctx = await setupSigning({
    server: url,
    identityToken: await stackToken(url),
    rekorVersion: 1,
    interactive: 'never',
    env: {},
  });
  const bundle = await signArtifact(new TextEncoder().encode(text), ctx);
  return Number(bundle.verificationMaterial.tlogEntries[0]!.logIndex);
}

test('Rekor v1 with an inactive shard: alerts and startIndex/endIndex use the log index', async () => {
  const first = await tempStack();
  const dataDir = first.dataDir;
  const before = await signV1(first.url, 'in the first shard');
  assert.equal(before, 0);
  await first.close();
  KeyRing.rotate(dataDir, 'rekor');
  const stack = await startStack({ port: 0, host: '127.0.0.1', dataDir, log: quiet });
  try {
    const indexes = [
      await signV1(stack.url, 'second shard, one'),
      await signV1(stack.url, 'second shard, two'),
    ];
    assert.deepEqual(indexes, [1, 2], 'the log numbers entries across its shards');
    // The v1 API of the stack, with the key of its active shard.
    const root = parseTrustedRoot(
      JSON.parse(await (await fetch(`${stack.url}/trusted_root.json`)).text()),
    );
    const active = root.tlogs.find((l) => l.validFor.end === undefined)!;
    const log = { ...active, baseUrl: `${stack.url}/rekor` };
    const pass = async (config: string) => {
      const alerts: IdentityAlert[] = [];
      const warnings: string[] = [];
      const m = new Monitor({
        sources: [new RekorV1Source(log)],
        config: parseMonitorConfig(config),
        print: (l) => alerts.push(JSON.parse(l) as IdentityAlert),
        report: (e) => {
          if (e.level !== 'info') warnings.push(JSON.stringify(e));
        },
      });
      const r = await m.pass();
      assert.equal(r.errors, 0, warnings.join('\n'));
      assert.equal(r.problems, 0);
      return { alerts, warnings };
    };
    const watch = 'monitoredValues:\n  subjects: [dev@signet\\.local]\n';

    const all = await pass(`startIndex: 0\n${watch}`);
    assert.deepEqual(
      all.alerts.map((a) => a.logIndex),
      indexes,
    );
    // The link opens the entry the alert names.
    for (const a of all.alerts) {
      const got = (await (await fetch(a.entryUrl)).json()) as Record<string, { logIndex: number }>;
      assert.equal(Object.values(got)[0]!.logIndex, a.logIndex);
    }
    // startIndex 0 is in the inactive shard, which is not read: said, not silent.
    assert.match(all.warnings.join('\n'), /startIndex 0 is in an inactive shard/);

    const last = await pass(`startIndex: 2\n${watch}`);
    assert.deepEqual(
      last.alerts.map((a) => a.logIndex),
      [2],
    );
    assert.deepEqual(last.warnings, []);
    const firstOnly = await pass(`startIndex: 1\nendIndex: 1\n${watch}`);
    assert.deepEqual(
      firstOnly.alerts.map((a) => a.logIndex),
      [1],
    );
  } finally {
    await stack.close();
  }
});
