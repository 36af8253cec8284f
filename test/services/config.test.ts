import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProviderConfig } from '../../src/services/oidc/config.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseConfig, readConfigFile } from '../../src/services/config.ts';
import { startStack } from '../../src/services/stack.ts';
import { tempStack } from '../helpers/stack.ts';
import { quiet } from './context.ts';

test('config file: top-level keys and per-service sections', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-'));
  const f = path.join(dir, 'signet.yaml');
  fs.writeFileSync(
    f,
    'port: 9000\nhost: 0.0.0.0\ndata: /var/lib/signet\nrekor:\n  batchMaxSize: 64\n',
  );
  const c = readConfigFile(f);
  assert.equal(c.port, 9000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.data, '/var/lib/signet');
  assert.deepEqual(c.services.rekor, { batchMaxSize: 64 });
  // A relative data folder is the config file's, as the files its sections name are.
  assert.equal(c.dir, dir);
  fs.writeFileSync(f, 'data: state\n');
  assert.equal(readConfigFile(f).data, path.join(dir, 'state'));
});

test('a config given as an object (startStack) reads relative paths from the working folder, or from configDir', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-'));
  fs.writeFileSync(
    path.join(dir, 'issuers.yaml'),
    'oidc-issuers:\n  https://issuer.example:\n    client-id: sigstore\n    type: email\n',
  );
  const issuers = async (url: string) =>
    (
      (await (await fetch(`${url}/fulcio/api/v2/configuration`)).json()) as {
        issuers: { issuerUrl: string }[];
      }
    ).issuers.map((i) => i.issuerUrl);
  const fromCwd = await tempStack({
    config: { ca: { issuers: path.relative(process.cwd(), path.join(dir, 'issuers.yaml')) } },
  });
  try {
    assert.deepEqual(await issuers(fromCwd.url), ['https://issuer.example']);
  } finally {
    await fromCwd.close();
  }
  const start = (configDir?: string) =>
    startStack({
      port: 0,
      host: '127.0.0.1',
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-data-')),
      log: quiet,
      config: { ca: { issuers: 'issuers.yaml' } },
      ...(configDir ? { configDir } : {}),
    });
  const fromDir = await start(dir);
  try {
    assert.deepEqual(await issuers(fromDir.url), ['https://issuer.example']);
  } finally {
    await fromDir.close();
  }
  await assert.rejects(start(), {
    message: `ca.issuers: cannot read issuer configuration: ${path.resolve('issuers.yaml')} does not exist; check the path`,
  });
});

test('config file: the README example is taken, and a misspelt key in a section is refused', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  const example = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-'));
  const f = path.join(dir, 'readme.yaml');
  fs.writeFileSync(f, example);
  const c = readConfigFile(f);
  assert.equal(c.services.ca!['keyType'], 'P-384');
  // Its identity provider section: alice besides the defaults, and the public client kept
  const oidc = parseProviderConfig(c.services.oidc!);
  assert.deepEqual(
    oidc.clients.map((x) => [x.id, x.testGrant]),
    [['sigstore', false]],
  );
  assert.ok(oidc.identities.some((i) => i.name === 'alice@example.com'));
  assert.ok(oidc.identities.some((i) => i.name === 'dev@signet.local'));
  // No client at all would let no one sign in: refused, not taken silently.
  assert.throws(() => parseProviderConfig({ clients: [] }), {
    message: /^oidc\.clients: is empty, so no one could sign in: /,
  });
  // Ignored, each would have left a default in place (a key type, a client list, ...).
  for (const [section, key] of [
    ['ca', 'keytype'],
    ['oidc', 'client'],
    ['rekor', 'batchMaxAge'],
    ['tuf', 'lifetime'],
    ['tsa', 'includechain'],
    ['ctlog', 'root'],
  ] as const)
    assert.throws(() => parseConfig({ [section]: { [key]: 1 } }, 'c.yaml'), {
      message: new RegExp(`^c\\.yaml: ${section}\\.${key}: unknown key \\(known: `),
    });
});

test('config file: bad input names the key and the reason', () => {
  assert.throws(() => parseConfig({ prot: 1 }, 'signet.yaml'), /signet\.yaml: prot: unknown key/);
  assert.throws(
    () => parseConfig({ port: 'x' }, 'c.yaml'),
    /c\.yaml: port: must be a whole number/,
  );
  assert.throws(
    () => parseConfig({ port: 70000 }, 'c.yaml'),
    /port: must be a whole number from 0 to 65535/,
  );
  assert.throws(() => parseConfig({ rekor: 3 }, 'c.yaml'), /rekor: must be a mapping/);
  assert.throws(() => parseConfig([1], 'c.yaml'), /must be a mapping/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-'));
  const f = path.join(dir, 'bad.yaml');
  fs.writeFileSync(f, 'port: [1,\n');
  assert.throws(
    () => readConfigFile(f),
    /: config file .*bad\.yaml: is not YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a \] at line 2, column 1$/,
  );
  assert.throws(() => readConfigFile(path.join(dir, 'missing.yaml')), /cannot read config file/);
});

test('signet up with a broken config file exits 1 with the reason', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-'));
  const f = path.join(dir, 'c.yaml');
  fs.writeFileSync(f, 'port: -1\n');
  const r = spawnSync('bin/signet', ['up', '--config', f], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /port: must be a whole number/);
});
