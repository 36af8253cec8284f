/**
 * Signet as an npm package, as a user gets it: `npm pack` (which builds dist/ with tsc), install
 * the tarball into a fresh project in a temporary folder (from the local npm cache), then sign
 * and verify through `import ... from 'signet'` and through `npx signet`, against a stack on
 * loopback.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackToken, tempStack } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-pkg-'));
const project = path.join(dir, 'project');
// The Node running the tests (>= 22.18) first on PATH, for npm, npx and the bin script.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}:${path.resolve('node_modules/.bin')}:${process.env.PATH}`,
  SIGNET_TUF_CACHE: path.join(dir, 'tuf'),
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
delete env.SIGNET_SERVER;

/** Run a command without blocking the event loop (the stack answers in this process). */
function run(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  stack = await tempStack();
});
after(async () => {
  await stack?.close();
});

test('npm pack, install into a fresh project, sign and verify by import and with npx signet', async () => {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    env,
    encoding: 'utf8',
  });
  const tgz = path.join(dir, out.trim().split('\n').pop()!);
  const listing = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' });
  assert.match(listing, /^package\/dist\/index\.js$/m);
  assert.match(listing, /^package\/dist\/index\.d\.ts$/m);
  assert.match(listing, /^package\/data\/public-good\/root\.json$/m);
  assert.doesNotMatch(listing, /^package\/(src|test)\//m, 'sources and tests are not shipped');

  fs.mkdirSync(project);
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const install = await run(
    'npm',
    ['install', tgz, '--prefer-offline', '--ignore-scripts', '--no-package-lock'],
    project,
  );
  assert.equal(install.status, 0, install.stderr);

  const token = await stackToken(stack.url);
  fs.writeFileSync(
    path.join(project, 'use.mjs'),
    `import { sign, verify, loadTrustedRoot, identityPolicy, serializeBundle, SignetError } from 'signet';
const [server, token] = process.argv.slice(2);
const data = new TextEncoder().encode('hello from a consumer\\n');
const bundle = await sign(data, { server, identityToken: token });
const trustedRoot = await loadTrustedRoot({ server });
const policy = identityPolicy({ identity: 'dev@signet.local', issuer: server + '/oidc' });
const r = await verify(serializeBundle(bundle), data, { trustedRoot, policy });
let code;
try {
  await verify(bundle, new TextEncoder().encode('something else'), { trustedRoot, policy });
} catch (e) {
  code = e instanceof SignetError ? e.code : String(e);
}
console.log(JSON.stringify({ identity: r.signer.identity, code }));
`,
  );
  const used = await run(process.execPath, ['use.mjs', stack.url, token], project);
  assert.equal(used.status, 0, used.stderr);
  assert.deepEqual(JSON.parse(used.stdout), {
    identity: ['dev@signet.local'],
    code: 'MESSAGE_DIGEST_MISMATCH',
  });

  // the type declarations are there for TypeScript users
  const dts = fs.readFileSync(path.join(project, 'node_modules/signet/dist/index.d.ts'), 'utf8');
  assert.match(dts, /export declare function verify\(/);

  fs.writeFileSync(path.join(project, 'a.txt'), 'signed with npx\n');
  const npx = (args: string[]) => run('npx', ['--no-install', 'signet', ...args], project);
  const signed = await npx([
    'sign-blob',
    '--server',
    stack.url,
    '--identity-token',
    await stackToken(stack.url),
    '--bundle',
    'a.json',
    'a.txt',
  ]);
  assert.equal(signed.status, 0, signed.stderr);
  const verified = await npx([
    'verify-blob',
    '--server',
    stack.url,
    '--bundle',
    'a.json',
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    `${stack.url}/oidc`,
    'a.txt',
  ]);
  assert.equal(verified.status, 0, verified.stderr);
  assert.match(verified.stderr, /Verified OK: signed by dev@signet\.local/);
  const v = await npx(['--version']);
  assert.equal(v.stdout.trim(), JSON.parse(fs.readFileSync('package.json', 'utf8')).version);

  // `npx signet up`: its banner shows commands that work here, where there is no ./bin/signet.
  const up = spawn('npx', ['--no-install', 'signet', 'up', '--port', '0', '--data', 'data'], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // a group of its own: npx, the shell script and Node all get the SIGTERM
  });
  let shown = '';
  up.stdout.on('data', (d: Buffer) => (shown += d.toString()));
  up.stderr.on('data', (d: Buffer) => (shown += d.toString()));
  const exited = new Promise<number | null>((resolve) => up.once('exit', resolve));
  try {
    const deadline = Date.now() + 60_000;
    while (!/^ {2}\S.* verify-blob /m.test(shown)) {
      assert.ok(Date.now() < deadline, shown);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.doesNotMatch(shown, /\.\/bin\/signet/, shown);
    assert.match(shown, /^ {2}npx signet sign-blob .*"\$\(npx signet token --server /m, shown);
    assert.match(shown, /^ {2}npx signet verify-blob /m, shown);
  } finally {
    process.kill(-up.pid!, 'SIGTERM');
    await exited;
  }
});

test('the installed signet on a Node older than 22.18 says so and exits 1, never a silent 0', async (t) => {
  // The machine's own Node (Debian's) is older than the one the tests run on.
  const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
    if (!fs.existsSync(p)) return false;
    const [major, minor] = execFileSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' })
      .trim()
      .split('.')
      .map(Number);
    return major! < 22 || (major === 22 && minor! < 18);
  });
  if (!old) {
    t.skip('no Node older than 22.18 installed here (/usr/bin/node, /usr/local/bin/node)');
    return;
  }
  const bin = path.join(project, 'node_modules/signet/bin');
  for (const [script, args] of [
    ['signet', ['verify-blob', '--bundle', 'none.json', 'none.txt']],
    ['signet-gitsign', ['--verify', 'x']],
  ] as const) {
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(path.join(bin, script), [...args], {
        cwd: project,
        env: { ...env, PATH: `${path.dirname(old)}:/usr/bin:/bin` },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stderr }));
    });
    assert.equal(r.status, 1, `${script}: ${r.stderr}`);
    assert.match(r.stderr, /^error: signet needs Node\.js 22\.18 or later; this is \d+\./m, script);
  }
  // The library too: importing it fails at once with the same words, not later with a
  // TypeError from inside sign or verify (Promise.withResolvers).
  fs.writeFileSync(
    path.join(project, 'old.mjs'),
    "import { verify } from 'signet';\nconsole.log(typeof verify);\n",
  );
  const lib = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(old, ['old.mjs'], { cwd: project, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    },
  );
  assert.equal(lib.status, 1, lib.stderr);
  assert.equal(lib.stdout, '');
  assert.match(lib.stderr, /^SignetError: signet needs Node\.js 22\.18 or later; this is \d+\./m);
});
