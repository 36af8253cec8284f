import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { ownImport } from '../../src/cli/fast-resolve.ts';

const root = path.join(import.meta.dirname, '..', '..');
const src = pathToFileURL(path.join(root, 'src')).href;

/**
 * A child process loads every module of src/ (the worker entry points, which need their
 * workerData, only as others import them) with a resolve hook that asks Node's own resolver and
 * compares its answer with ownImport's: the shortcut bin/signet takes must give the same URL
 * and format for every import it takes.
 */
const COMPARE = `
import nodeModule from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const { ownImport } = await import(${JSON.stringify(`${src}/cli/fast-resolve.ts`)});
let taken = 0;
const wrong = [];
nodeModule.registerHooks({
  resolve(specifier, context, nextResolve) {
    const node = nextResolve(specifier, context);
    const own = ownImport(specifier, context.parentURL);
    if (own) {
      taken++;
      if (own.url !== node.url || own.format !== node.format)
        wrong.push(specifier + ' from ' + context.parentURL + ': ' + JSON.stringify(own) + ', Node: ' + JSON.stringify({ url: node.url, format: node.format }));
    }
    return node;
  },
});
const dir = ${JSON.stringify(path.join(root, 'src'))};
for (const f of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
  if (!f.endsWith('.ts')) continue;
  const file = path.join(dir, f);
  if (/\\bworkerData\\b/.test(fs.readFileSync(file, 'utf8'))) continue;
  await import(pathToFileURL(file).href);
}
process.stdout.write(JSON.stringify({ taken, wrong }));
`;

describe("bin/signet's resolve shortcut (cli/fast-resolve.ts)", () => {
  it('resolves every relative import in src/ exactly as Node does', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', COMPARE], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const { taken, wrong } = JSON.parse(r.stdout) as { taken: number; wrong: string[] };
    assert.deepEqual(wrong, []);
    // Every import between our modules (over a thousand), not a handful.
    assert.ok(taken > 1000, `only ${taken} imports were taken by the shortcut`);
  });

  it('leaves to Node what is not a relative import between our own modules', () => {
    const cli = `${src}/cli/main.ts`;
    assert.deepEqual(ownImport('./errors.ts', cli), {
      url: `${src}/cli/errors.ts`,
      format: 'module-typescript',
    });
    assert.deepEqual(ownImport('../core/x.js', cli), {
      url: `${src}/core/x.js`,
      format: 'module',
    });
    for (const [specifier, parent] of [
      ['commander', cli], // a package
      ['node:fs', cli], // a builtin
      ['/abs/x.ts', cli], // not relative
      ['./data.json', cli], // not a module of ours
      ['./dir', cli], // no extension
      ['../../../outside.ts', cli], // leaves src/
      ['./lib/command.js', pathToFileURL(path.join(root, 'node_modules/commander/index.js')).href],
      ['./x.ts', undefined], // the entry point
    ] as const)
      assert.equal(ownImport(specifier, parent), undefined, `${specifier} from ${parent}`);
  });

  it('bin/signet starts through it, from any folder and by a relative path', () => {
    for (const [cwd, bin] of [
      [root, 'bin/signet'],
      [path.join(root, 'bin'), './signet'],
      [path.dirname(root), path.join(path.basename(root), 'bin', 'signet-gitsign')],
    ] as const) {
      const r = spawnSync(bin, ['--version'], { cwd, encoding: 'utf8' });
      assert.equal(r.status, 0, `${bin} in ${cwd}: ${r.stderr}`);
      assert.match(r.stdout, /\d+\.\d+\.\d+/);
    }
  });

  it('bin/signet and bin/signet-gitsign start from a symlink to the bin folder', () => {
    // `ln -s /path/to/signet/bin mybin; ./mybin/signet`: "mybin/.." is not the checkout.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-linked-bin-'));
    fs.symlinkSync(path.join(root, 'bin'), path.join(dir, 'mybin'));
    fs.symlinkSync('mybin', path.join(dir, 'again')); // a link to the link
    fs.mkdirSync(path.join(dir, 'sub'));
    // CDPATH set: cd must print nothing (it would go into the command's output)
    const env = { ...process.env, CDPATH: dir };
    for (const bin of ['./mybin/signet', 'mybin/signet', './again/signet']) {
      // in the caller's folder still: --output-file is written there
      fs.rmSync(path.join(dir, 'out.txt'), { force: true });
      const r = spawnSync(bin, ['--output-file', 'out.txt', 'version'], {
        cwd: dir,
        encoding: 'utf8',
        env,
      });
      assert.equal(r.status, 0, `${bin}: ${r.stderr}`);
      assert.equal(r.stdout, '', bin);
      assert.match(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), /^signet \d+\.\d+\.\d+\n/);
    }
    const g = spawnSync('../mybin/signet-gitsign', ['--version'], {
      cwd: path.join(dir, 'sub'),
      encoding: 'utf8',
      env,
    });
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /^signet-gitsign \(signet \d+\.\d+\.\d+\)\n$/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts without it from a folder whose path --import would read as a URL (# % ?)', () => {
    // --import takes a specifier: "a#b/..." would lose everything after the #.
    const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-')), 'x#%y');
    fs.mkdirSync(copy);
    for (const d of ['bin', 'src', 'package.json'])
      fs.cpSync(path.join(root, d), path.join(copy, d), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    for (const bin of ['signet', 'signet-gitsign']) {
      const r = spawnSync(path.join(copy, 'bin', bin), ['--version'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${bin}: ${r.stderr}`);
    }
    fs.rmSync(path.dirname(copy), { recursive: true, force: true });
  });
});
