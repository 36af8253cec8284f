/**
 * The README's "Watch the log for your identity" commands, run as written against a stack (on a
 * free port instead of 8420) in which dev@signet.local has signed: the monitor finds it (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';

const readme = fs.readFileSync('README.md', 'utf8');

function commandsAfter(heading: RegExp): string[] {
  const start = readme.search(heading);
  assert.ok(start >= 0, `README has no section ${heading}`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  assert.ok(m, 'README section has no ```sh block');
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l.length > 0);
}

const sh = (cmd: string, cwd: string, env: NodeJS.ProcessEnv) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      'bash',
      ['-c', cmd],
      { cwd, env, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

test('README: watch the log for your identity, as written', async () => {
  const stack = await tempStack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-readme-monitor-'));
  try {
    const ctx = await setupSigning({
      server: stack.url,
      identityToken: await stackToken(stack.url),
      interactive: 'never',
      env: {},
    });
    await signArtifact(new TextEncoder().encode('watched\n'), ctx);
    const env = { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf') };
    const steps = commandsAfter(/## Watch the log for your identity/).map((c) =>
      c
        .replaceAll('http://127.0.0.1:8420', stack.url)
        .replaceAll('./bin/signet', path.resolve('bin/signet')),
    );
    for (const [i, step] of steps.entries()) {
      const r = await sh(step, dir, env);
      if (i < steps.length - 1) assert.equal(r.status, 0, `"${step}" failed:\n${r.stderr}`);
      else {
        assert.equal(
          r.status,
          2,
          `"${step}" should find dev@signet.local:\n${r.stdout}\n${r.stderr}`,
        );
        const alerts = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { identity: string });
        assert.ok(alerts.length >= 2, 'the log entry and the precertificate');
        for (const a of alerts) assert.equal(a.identity, 'dev@signet.local');
      }
    }
  } finally {
    await stack.close();
  }
});
