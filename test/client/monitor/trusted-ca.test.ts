/**
 * A certificate is an identity alert only when a CA of the trusted root issued it, as
 * rekor-monitor has it (ValidateCertificateChain with the trusted root's Fulcio CAs): anyone
 * can log a hashedrekord entry whose certificate they made themselves naming you, and no
 * verifier accepts it. Such entries are reported (level warn, `notAlerted`), not alerted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import { monitorFromFlags } from '../../../src/client/monitor/setup.ts';
import type { Alert, IdentityAlert } from '../../../src/client/monitor/alerts.ts';
import {
  craftCertificate,
  emailSan,
  logCraftedEntry,
  ownCa,
} from '../../helpers/crafted-entries.ts';

const WHO = 'dev@signet.local';

test('an entry whose certificate no CA of the trusted root issued is reported, not alerted', async () => {
  const stack = await tempStack({
    config: { oidc: { identities: [{ flavor: 'email', name: WHO }] } },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-monitor-ca-'));
  try {
    const rootText = await (await fetch(`${stack.url}/trusted_root.json`)).text();
    fs.writeFileSync(path.join(dir, 'root.json'), rootText);
    const issuer = `${stack.url}/oidc`;
    // Signed through the stack's CA: an alert.
    const ctx = await setupSigning({
      server: stack.url,
      identityToken: await stackToken(stack.url, WHO),
      rekorVersion: 1,
      interactive: 'never',
      env: {},
    });
    await signArtifact(new TextEncoder().encode('signed through the CA'), ctx);
    // Made by someone else: one CA of their own, one with the stack CA's very names.
    const caNames = (
      JSON.parse(rootText) as {
        certificateAuthorities: Array<{ subject: { organization: string; commonName: string } }>;
      }
    ).certificateAuthorities[0]!.subject;
    const forged = (names: typeof caNames, artifact: string) =>
      logCraftedEntry(
        stack.url,
        craftCertificate(ownCa(names), {
          sans: [emailSan(WHO)],
          extensions: { 1: issuer, 8: issuer },
        }),
        artifact,
      ).then((e) => e.logIndex);
    const forgedIndexes = [
      await forged({ organization: 'evil', commonName: 'evil' }, 'a'),
      await forged(caNames, 'b'),
    ];

    const lines: Alert[] = [];
    const reports: Array<Record<string, unknown>> = [];
    const m = await monitorFromFlags(
      {
        trustedRoot: path.join(dir, 'root.json'),
        config: `startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubject: ${WHO.replaceAll('.', '\\.')}\n`,
      },
      {
        print: (l: string) => lines.push(JSON.parse(l) as Alert),
        report: (e) => reports.push(e),
      },
    );
    await m.pass();
    const rekorAlerts = lines.filter(
      (a): a is IdentityAlert => a.type === 'identity' && a.kind.startsWith('hashedrekord'),
    );
    assert.equal(rekorAlerts.length, 1, JSON.stringify(lines));
    assert.ok(!forgedIndexes.includes(rekorAlerts[0]!.logIndex));
    const notAlerted = reports.filter((r) => r.notAlerted !== undefined);
    assert.deepEqual(
      notAlerted.map((r) => r.logIndex),
      forgedIndexes,
      JSON.stringify(reports),
    );
    for (const r of notAlerted) {
      assert.equal(r.identity, WHO);
      assert.match(String(r.notAlerted), /no CA of the trusted root issued it/);
    }
  } finally {
    await stack.close();
  }
});
