/**
 * Does exactly what the README tells a new user: a fresh clone, the first command (install and
 * `signet up`), then the quick-start commands that sign and verify a file — and all of it in
 * under two minutes (issue 4). The only liberty taken: the stack listens on a free port instead
 * of 8420, so the test never collides with a stack a developer is running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const readme = fs.readFileSync('README.md', 'utf8');

/** The shell lines of the first fenced block after `heading` (comments stripped). */
function commandsAfter(heading: RegExp | null): string[] {
  const start = heading ? readme.search(heading) : 0;
  assert.ok(start >= 0, `README has no section ${heading}`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  assert.ok(m, 'README section has no ```sh block');
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l.length > 0);
}

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test('a new user: fresh clone, the README commands, sign and verify a file in under two minutes', async () => {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-readme-'));
  const clone = path.join(dir, 'signet');
  execFileSync('git', ['clone', '--quiet', path.resolve('.'), clone]);
  const [upCommand] = commandsAfter(null);
  assert.match(upCommand!, /signet up/);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The npm cache is warm on a machine that ran `npm ci` for this checkout; prefer it.
  const env = { ...process.env, SIGNET_PORT: String(port), npm_config_prefer_offline: 'true' };
  const up = spawn('bash', ['-c', upCommand!], {
    cwd: clone,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      up.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('signet is up at')) resolve();
      });
      up.once('exit', (code) => reject(new Error(`signet up exited with ${code}: ${out}`)));
    });
    assert.match(out, new RegExp(`signet is up at ${url}`));
    const steps = [
      ...commandsAfter(/## Sign and verify a file/),
      ...commandsAfter(/### Many files at once/),
    ].map((c) => c.replaceAll('http://127.0.0.1:8420', url));
    for (const step of steps) {
      const r = spawnSync('bash', ['-c', step], {
        cwd: clone,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `"${step}" failed:\n${r.stdout}\n${r.stderr}`);
    }
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 120, `the README steps took ${seconds.toFixed(1)} s, over two minutes`);
  } finally {
    up.kill('SIGTERM');
    await new Promise((resolve) => up.once('exit', resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
