/**
 * The README's "Verify without a network (air gap)", run as a new user runs it, in one shell:
 * first what it says was signed above (the quick start's file, "Sign your commits", "Sign a
 * container image", the policy case of "Decide who may sign"), then the section's block. Its
 * connected side runs against the stack; then the stack and the registry the image was signed in
 * are stopped, and a listener on each of their ports counts connections while the inside runs:
 * any request the inside commands made to either would be counted (and would fail). Liberties,
 * as in readme-images: free ports, this test's docker-registry instances rather than the ones the
 * sections start, a repository of the test's own for /path/to/your/repository, and an isolated
 * git world (HOME, the credential cache's socket).
 *
 * A second test checks the section's words on `signet rotate`: the trusted root carried before a
 * rotation still verifies what was signed before it, not what is signed after, and the one
 * fetched after verifies both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempStack } from './helpers/stack.ts';
import { registryMissing, startRegistry } from './helpers/registry.ts';
import { blockText, commandLines, readme } from './helpers/readme.ts';
import { gitWorld, must, run } from './git/helpers.ts';
import { agentRequest } from '../src/client/git/agent.ts';

const SECTION = '## Verify without a network (air gap)';

/** A listener on a port that was a service's: it counts whoever still tries to reach it. */
async function tripwire(port: number): Promise<{ hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = net.createServer((socket) => {
    hits++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The README's folder as a clone has it (./bin/signet, scripts/), for files the commands write. */
function cloneLike(dir: string): void {
  for (const name of ['bin', 'src', 'node_modules', 'scripts', 'package.json'])
    fs.symlinkSync(path.resolve(name), path.join(dir, name));
}

test(
  'README: verify a file, an image, a policy case and commits with no network',
  { skip: registryMissing() },
  async () => {
    const world = gitWorld({
      PATH: `${path.resolve('node_modules/.bin')}:${process.env.PATH ?? ''}`,
    });
    const dir = path.join(world.dir, 'signet');
    fs.mkdirSync(dir);
    cloneLike(dir);
    const repo = path.join(world.dir, 'your-repository');
    fs.mkdirSync(repo);

    const airgap = blockText(SECTION);
    const lines = airgap.split('\n');
    const carry = lines.findIndex((l) => /^# carry /.test(l));
    assert.ok(
      carry > 0,
      'the block says, in a comment, what is carried across and where inside starts',
    );
    const connected = commandLines(lines.slice(0, carry).join('\n'));
    // The registry inside is this test's, running already (a free port of its own).
    const insideLines = commandLines(lines.slice(carry).join('\n')).filter(
      (l) => !/registry-inside\.yml/.test(l),
    );
    assert.ok(connected.some((l) => /trusted-root --server \S+ --out trusted_root\.json/.test(l)));
    assert.ok(insideLines.length >= 6, `the inside commands: ${insideLines.join('\n')}`);

    const commitsAt = readme.indexOf('## Sign your commits');
    const commits = [
      ...commandLines(blockText('## Sign your commits')),
      ...commandLines(
        blockText(
          '## Sign your commits',
          readme.indexOf('Then commit and tag as usual') - commitsAt,
        ),
      ),
    ].map((l) => (l === 'cd /path/to/your/repository' ? `${l} && git init -q -b main` : l));
    assert.ok(commits.some((l) => l.startsWith('cd /path/to/your/repository &&')));
    const WAIT = 'connected side done: waiting for the stack to stop';
    const template = [
      'set -eu',
      // stdin is the test's signal that the stack is down; the README's commands read none.
      'exec 3<&0 </dev/null',
      ...commandLines(blockText('## Sign and verify a file')),
      ...commits,
      `cd ${dir}`,
      // The registry the section starts: this test's is running already.
      ...commandLines(blockText('## Sign a container image')).filter(
        (l) => !/registry\.yml/.test(l),
      ),
      ...commandLines(blockText('## Decide who may sign')),
      ...connected,
      `echo '${WAIT}'`,
      'read -r _ <&3',
      'echo "inside:"',
      ...insideLines,
    ].join('\n');

    // The README read, the services start (and are stopped whatever happens next).
    const stack = await tempStack({ dataDir: path.join(world.dir, 'stack') });
    const outside = await startRegistry();
    const inside = await startRegistry();
    const stackAddress = new URL(stack.url).host;
    const script = template
      .replaceAll('127.0.0.1:8420', stackAddress)
      .replaceAll('127.0.0.1:5000', outside.host)
      .replaceAll('127.0.0.1:5001', inside.host)
      .replaceAll('/path/to/your/repository', repo);

    const child = spawn('bash', ['-c', script], {
      cwd: dir,
      detached: true,
      env: world.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    const wires: Awaited<ReturnType<typeof tripwire>>[] = [];
    let stackOpen = true;
    let outsideOpen = true;
    try {
      assert.doesNotMatch(script, /:8420|:500[01]\b|\/path\/to/);
      const waiting = await new Promise<boolean>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes(WAIT)) resolve(true);
        });
        void closed.then(() => resolve(false));
      });
      assert.ok(waiting, `the connected side failed:\n${err}\n${out}`);
      const insideFrom = out.length;
      const errFrom = err.length;
      // The inside: the stack and the registry the image was signed in are gone, and their
      // ports only count.
      const ports = [Number(new URL(stack.url).port), Number(outside.host.split(':')[1])];
      await stack.close();
      stackOpen = false;
      await outside.close();
      outsideOpen = false;
      for (const port of ports) wires.push(await tripwire(port));
      child.stdin.end('go\n');
      const code = await closed;
      const insideOut = out.slice(insideFrom);
      const insideErr = err.slice(errFrom);
      assert.deepEqual(
        wires.map((w) => w.hits()),
        [0, 0],
        `the inside commands reached the stack or the registry outside (connections per port ${ports.join(', ')}):\n${insideErr}`,
      );
      assert.equal(code, 0, `the inside commands failed:\n${insideErr}\n${insideOut}`);
      // verify-blob with the carried trusted root
      assert.match(insideErr, /^Verified OK: signed by dev@signet\.local /m);
      // the saved folder, then the image loaded into the registry inside
      assert.match(insideErr, /^Verification for local image hello-image --$/m);
      assert.match(insideErr, new RegExp(`^loaded hello-image to ${inside.host}/demo/hello`, 'm'));
      assert.match(
        insideErr,
        new RegExp(`^Verification for ${inside.host}/demo/hello@sha256:[0-9a-f]{64} --$`, 'm'),
      );
      assert.equal(insideErr.match(/^1 signature found, 1 tried, 1 valid /gm)?.length, 2);
      assert.equal(insideOut.match(/^signature by dev@signet\.local /gm)?.length, 2);
      // the recorded policy case, replayed
      assert.match(insideOut, /^ok hello\.txt: allowed \(expected allow\)$/m);
      // the commits, by their embedded log entries
      assert.match(insideOut, /^[0-9a-f]{40} OK signed by dev@signet\.local /m);
      assert.match(insideErr, /^Verified OK: 1 commit in HEAD~1\.\.HEAD$/m);
      // And git's own verification, as the paragraph after the block says: signet.trustedRoot
      // in place of the signet.server the repository was set up with.
      await must(
        world.git(repo, ['config', 'signet.trustedRoot', path.join(dir, 'trusted_root.json')]),
      );
      const git = await world.git(repo, ['verify-commit', 'HEAD']);
      assert.equal(git.status, 0, git.stderr);
      assert.match(git.stderr, /^signet: Good signature from dev@signet\.local /m);
      assert.deepEqual(
        wires.map((w) => w.hits()),
        [0, 0],
        'git verify-commit reached the stack or the registry outside',
      );
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the shell has ended
      }
      for (const w of wires) await w.close();
      await agentRequest(world.socket, { op: 'stop' }, 2000).catch(() => undefined);
      await inside.close();
      if (outsideOpen) await outside.close();
      if (stackOpen) await stack.close();
      fs.rmSync(world.dir, { recursive: true, force: true });
    }
  },
);

test('README air gap: after signet rotate ca, the trusted root carried before verifies only what was signed before', async () => {
  const world = gitWorld({
    PATH: `${path.resolve('node_modules/.bin')}:${process.env.PATH ?? ''}`,
  });
  const dir = path.join(world.dir, 'signet');
  const dataDir = path.join(world.dir, 'data');
  fs.mkdirSync(dir);
  cloneLike(dir);
  const sh = (script: string) => run('bash', ['-e', '-c', script], dir, world.env);
  const sign = (url: string, file: string) =>
    sh(
      `echo '${file}' > ${file}
./bin/signet sign-blob --server ${url} --identity-token "$(./bin/signet token --server ${url} --subject dev@signet.local)" --bundle ${file}.sigstore.json ${file}`,
    );
  const verify = (root: string, file: string, url: string) =>
    sh(
      `./bin/signet verify-blob --trusted-root ${root} --bundle ${file}.sigstore.json --certificate-identity dev@signet.local --certificate-oidc-issuer ${url}/oidc ${file}`,
    );
  let stack = await tempStack({ dataDir });
  try {
    const before = stack.url;
    for (const r of [
      await sh(`./bin/signet trusted-root --server ${before} --out before.json`),
      await sign(before, 'old.txt'),
    ])
      assert.equal(r.status, 0, r.stderr);
    await stack.close();
    const rotated = await sh(`./bin/signet rotate --data ${dataDir} ca`);
    assert.equal(rotated.status, 0, rotated.stderr);
    stack = await tempStack({ dataDir });
    const after = stack.url;
    for (const r of [
      await sh(`./bin/signet trusted-root --server ${after} --out after.json`),
      await sign(after, 'new.txt'),
    ])
      assert.equal(r.status, 0, r.stderr);
    const oldWithBefore = await verify('before.json', 'old.txt', before);
    assert.equal(oldWithBefore.status, 0, oldWithBefore.stderr);
    const newWithBefore = await verify('before.json', 'new.txt', after);
    assert.equal(newWithBefore.status, 12, newWithBefore.stderr);
    assert.match(
      newWithBefore.stderr,
      /^error: the signing certificate's signature does not verify/m,
    );
    for (const [file, url] of [
      ['old.txt', before],
      ['new.txt', after],
    ] as const) {
      const r = await verify('after.json', file, url);
      assert.equal(r.status, 0, `${file}: ${r.stderr}`);
    }
    // Only the root fetched after closes the old versions' windows.
    type Root = { certificateAuthorities: { validFor: { start: string; end?: string } }[] };
    const ends = (f: string) =>
      (JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Root).certificateAuthorities.map(
        (ca) => ca.validFor.end !== undefined,
      );
    assert.deepEqual(ends('before.json'), [false]);
    assert.deepEqual(ends('after.json'), [true, false]);
  } finally {
    await stack.close();
    fs.rmSync(world.dir, { recursive: true, force: true });
  }
});
