// A bench module runs with a temporary folder of its own, removed however the module ends: a
// run leaves nothing in the machine's temporary folder (the benches left their data folders,
// bundles and stack logs there, and a failed one its half-made ones).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runIsolated } from '../../bench/support/isolated.ts';

const fixture = path.resolve('test/fixtures/bench/leaves-files.bench.ts');
const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-isolated-')), 'report');
process.env.SIGNET_TEST_REPORT = report;
after(() => fs.rmSync(path.dirname(report), { recursive: true, force: true }));

/** Where the module wrote, as it reported; the report is read once. */
function wrote(): { tmp: string; cache: string } {
  const r = JSON.parse(fs.readFileSync(report, 'utf8')) as { tmp: string; cache: string };
  fs.rmSync(report);
  return r;
}

test('a module that finishes: its rows come back, and what it wrote under its tmp is gone', async () => {
  process.env.SIGNET_TEST_END = 'return';
  const rows = await runIsolated(fixture);
  assert.equal(rows.length, 1);
  const { tmp, cache } = wrote();
  assert.ok(rows[0]!.measured.startsWith(`${tmp}${path.sep}`), 'it wrote under its own tmp');
  assert.ok(!tmp.startsWith(`${os.tmpdir()}${path.sep}signet-bench-leftover`));
  assert.ok(!fs.existsSync(path.dirname(tmp)), `${path.dirname(tmp)} is left`);
  // The monitor's cache of filled logs outlives the run, in the real temporary folder.
  assert.equal(cache, path.join(os.tmpdir(), 'signet-bench-cache'));
});

test('a module that throws or is killed: the run fails saying so, and its tmp is gone', async () => {
  for (const [end, message] of [
    ['throw', 'bench leaves-files.bench.ts exited with 1'],
    ['kill', 'bench leaves-files.bench.ts died of SIGKILL'],
  ] as const) {
    process.env.SIGNET_TEST_END = end;
    await assert.rejects(runIsolated(fixture), { message });
    const { tmp } = wrote();
    assert.ok(!fs.existsSync(path.dirname(tmp)), `${end}: ${path.dirname(tmp)} is left`);
  }
});

test('a run stopped with Ctrl-C (SIGINT) stops the module, removes its tmp, and ends', async () => {
  const runner = spawn(
    process.execPath,
    [path.resolve('test/fixtures/bench/run-isolated.ts'), fixture],
    { env: { ...process.env, SIGNET_TEST_END: 'wait' }, stdio: 'inherit' },
  );
  const exited = new Promise<NodeJS.Signals | null>((r) => runner.once('exit', (_c, s) => r(s)));
  try {
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(report)) {
      assert.ok(Date.now() < deadline, 'the module did not start within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const { tmp } = wrote();
    assert.ok(fs.existsSync(tmp), 'its tmp is there while it runs');
    runner.kill('SIGINT');
    assert.equal(await exited, 'SIGINT');
    assert.ok(!fs.existsSync(path.dirname(tmp)), `${path.dirname(tmp)} is left`);
  } finally {
    runner.kill('SIGKILL');
  }
});
