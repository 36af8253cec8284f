/**
 * What the README's examples write into a clone that holds a private key (a stack's or a
 * witness's data folder, a key made with openssl or generate-key-pair) is kept out of git by
 * the clone's .gitignore: a `git add .` after trying them must not commit a key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const readme = fs.readFileSync('README.md', 'utf8');
/** Every shell line of the README's ```sh blocks (in lists too), comments stripped. */
const lines = [...readme.matchAll(/^ *```sh\n([\s\S]*?)^ *```/gm)]
  .flatMap((m) => m[1]!.split('\n'))
  .map((l) => l.replace(/\s+#\s.*$/, '').trim())
  .filter((l) => l.length > 0);

/** The default --data of a command, as its source gives it. */
function defaultData(file: string, re: RegExp): string {
  const m = re.exec(fs.readFileSync(file, 'utf8'));
  assert.ok(m, `no default data folder found in ${file}`);
  return m[1]!;
}

interface KeyPath {
  path: string;
  folder: boolean;
  line: string;
}

/** The folders and files the README's examples make with private keys in them. */
function keyPaths(): KeyPath[] {
  const out: KeyPath[] = [];
  const defaults: Record<string, string> = {
    up: defaultData('src/cli/commands/up.ts', /dataDir: flags\.data \?\? .*\?\? '([^']+)'/),
    witness: defaultData('src/cli/commands/witness.ts', /dataDir: flags\.data \?\? '([^']+)'/),
  };
  for (const line of lines) {
    const cmd = /\bsignet (up|witness)\b/.exec(line)?.[1];
    if (cmd !== undefined)
      out.push({ path: /--data[ =](\S+)/.exec(line)?.[1] ?? defaults[cmd]!, folder: true, line });
    if (/\bsignet generate-key-pair\b/.test(line))
      out.push({ path: 'cosign.key', folder: false, line });
    // openssl: req -keyout FILE; ecparam -genkey, genpkey, genrsa -out FILE (not pkey -pubout)
    for (const step of line.split(/&&|\|\||[|;]/)) {
      for (const m of step.matchAll(/-keyout (\S+)/g))
        out.push({ path: m[1]!, folder: false, line });
      if (/\bopenssl (ecparam .*-genkey|genpkey|genrsa)\b/.test(step))
        for (const m of step.matchAll(/-out (\S+)/g))
          out.push({ path: m[1]!, folder: false, line });
    }
  }
  return out;
}

test("every folder and file the README's examples make with a private key is in .gitignore", () => {
  const paths = keyPaths();
  // The examples this is about are found: signet up, the witness, the keys made with openssl.
  assert.ok(
    paths.some((p) => /\bsignet witness\b/.test(p.line)),
    'the witness example',
  );
  assert.ok(
    paths.some((p) => /\bsignet up\b/.test(p.line)),
    'signet up',
  );
  assert.ok(paths.filter((p) => !p.folder).length >= 4, 'the openssl keys');
  const notIgnored: string[] = [];
  for (const p of paths) {
    // A key in the folder, as `git add .` would meet it.
    const file = p.folder ? `${p.path.replace(/\/$/, '')}/keys/key.pem` : p.path;
    const r = spawnSync('git', ['check-ignore', '--no-index', '-q', file], { encoding: 'utf8' });
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    if (r.status === 1) notIgnored.push(`${file} (from "${p.line}")`);
  }
  assert.deepEqual(notIgnored, [], 'not in .gitignore');
  // generate-key-pair's cosign.key, which the README names in prose.
  assert.equal(
    spawnSync('git', ['check-ignore', '--no-index', '-q', 'cosign.key']).status,
    0,
    'cosign.key (signet generate-key-pair) is not in .gitignore',
  );
});
