import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

/**
 * Where Chromium is missing, the browser suites report each of their tests skipped with the
 * reason (a skipped describe() would count 0 tests and 0 skipped, hiding what did not run),
 * and launch nothing. Run with a Chromium path that does not exist.
 */
test('without Chromium each browser test is counted skipped, with the reason', () => {
  const files = [
    'test/e2e/login-page.test.ts',
    'test/e2e/device-page.test.ts',
    'test/e2e/sign-in.test.ts',
    'test/e2e/explorer.test.ts',
    'test/e2e/explorer-hostile.test.ts',
  ];
  // NODE_TEST_CONTEXT would make the inner runner report to this one instead of printing TAP.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], {
    encoding: 'utf8',
    env: { ...env, SIGNET_TEST_CHROMIUM: '/nonexistent/chromium' },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(r.stdout)?.[1]);
  const skips = r.stdout.match(/^ *ok \d+ - .* # SKIP .*$/gm) ?? [];
  const reason = '/nonexistent/chromium is not installed (apt-get install chromium)';
  assert.ok(count('tests') >= 25, `tests ${count('tests')}`);
  assert.equal(count('skipped'), count('tests'));
  assert.equal(count('pass'), 0);
  assert.equal(skips.length, count('tests'));
  for (const s of skips) assert.ok(s.includes(reason), s);
});
