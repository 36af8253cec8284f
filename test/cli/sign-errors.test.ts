import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports.ts';

const closedPort = await freePort();
const down = `http://127.0.0.1:${closedPort}`;

const bin = path.resolve('bin/signet');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-sign-'));
fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
fs.writeFileSync(path.join(dir, 'bad-config.json'), '{"mediaType": 1');
fs.writeFileSync(
  path.join(dir, 'other-statement.json'),
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'b.txt', digest: { sha256: 'ab'.repeat(32) } }],
    predicateType: 'https://example.com/p',
    predicate: {},
  }),
);
const service = (url: string) => ({
  url,
  majorApiVersion: 1,
  validFor: { start: '2020-01-01T00:00:00Z' },
});
fs.writeFileSync(
  path.join(dir, 'config.json'),
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service('http://127.0.0.1:9/fulcio')],
    oidcUrls: [],
    rekorTlogUrls: [service('http://127.0.0.1:9/rekor')],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [],
    tsaConfig: { selector: 'ANY' },
  }),
);
const env = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !['SIGSTORE_ID_TOKEN', 'SIGNET_SERVER'].includes(k),
    ),
  ),
  SIGNET_TUF_CACHE: path.join(dir, 'tuf-cache'),
};
const run = (args: string[]) =>
  spawnSync(bin, args, { cwd: dir, encoding: 'utf8', env, input: '' });

const cases: Array<[string, string[], RegExp]> = [
  [
    'missing artifact',
    ['sign-blob', '--server', down, 'nope.txt'],
    /^error: file: nope.txt does not exist; check the path/,
  ],
  [
    'no services',
    ['sign-blob', '--use-signing-config=false', '--identity-token', 'a.b.c', 'a.txt'],
    /^error: say where the services are: --server URL/,
  ],
  [
    'unreachable server',
    ['sign-blob', '--server', down, '--identity-token', 'a.b.c', 'a.txt'],
    new RegExp(
      `^error: cannot fetch the initial root: cannot reach the TUF repository at ${down}/tuf/1.root.json: nothing is listening at ${down}; is the server running there\\?`,
    ),
  ],
  [
    'server not a URL',
    ['sign-blob', '--server', 'localhost', 'a.txt'],
    /^error: --server: "localhost" is not a URL/,
  ],
  [
    'broken signing config',
    ['sign-blob', '--signing-config', 'bad-config.json', 'a.txt'],
    /^error: bad-config.json: is not valid JSON/,
  ],
  [
    'bad --rekor-version',
    ['sign-blob', '--rekor-version', '3', 'a.txt'],
    /^error: --rekor-version: "3" is not 1 or 2/,
  ],
  [
    'attest without predicate',
    ['attest-blob', '--server', down, 'a.txt'],
    /^error: --predicate: is required/,
  ],
  [
    'attest bad type',
    ['attest-blob', '--predicate', 'a.txt', '--type', 'nonsense', 'a.txt'],
    /^error: --type: "nonsense" is neither a known predicate type/,
  ],
  [
    'attest predicate not JSON',
    [
      'attest-blob',
      '--predicate',
      'a.txt',
      '--type',
      'slsaprovenance1',
      '--signing-config',
      'bad-config.json',
      'a.txt',
    ],
    /^error: --predicate: a\.txt is not valid JSON \([^)]*\); predicate type slsaprovenance1 takes JSON\n$/,
  ],
  [
    'conformance sign-bundle staging',
    ['sign-bundle', '--staging', '--identity-token', 't', '--bundle', 'o.json', 'a.txt'],
    /^error: --staging names Sigstore's public staging services/,
  ],
  [
    'no identity token and no terminal',
    ['sign-blob', '--signing-config', 'config.json', 'a.txt'],
    /^error: .*no identity token found/,
  ],
  [
    'identity token that is neither a JWT nor a file',
    ['sign-blob', '--signing-config', 'config.json', '--identity-token', 'nonsense', 'a.txt'],
    /^error: .*--identity-token is neither a JWT nor a readable file/,
  ],
  [
    'bundle folder missing (checked before anything is signed)',
    [
      'sign-blob',
      '--key',
      'nokey.pem',
      '--tlog-upload=false',
      '--bundle',
      'no/such/dir/b.json',
      'a.txt',
    ],
    /^error: --bundle: cannot write no\/such\/dir\/b.json: folder .* does not exist/,
  ],
  [
    'detached signature folder missing (checked before anything is signed)',
    [
      'sign-blob',
      '--key',
      'nokey.pem',
      '--tlog-upload=false',
      '--output-signature',
      'no/such/dir/s.sig',
      'a.txt',
    ],
    /^error: --output-signature: cannot write no\/such\/dir\/s.sig: folder .* does not exist/m,
  ],
  [
    'certificate output folder missing for attest-blob (checked before anything is signed)',
    [
      'attest-blob',
      '--predicate',
      'a.txt',
      '--key',
      'nokey.pem',
      '--tlog-upload=false',
      '--output-certificate',
      'no/such/dir/c.pem',
      'a.txt',
    ],
    /^error: --output-certificate: cannot write no\/such\/dir\/c.pem: folder .* does not exist/m,
  ],
  [
    'contradicting Rekor versions',
    ['sign-blob', '--key', 'nokey.pem', '--use-rekor-v2', '--rekor-version', '1', 'a.txt'],
    /^error: --rekor-version: 1 contradicts --use-rekor-v2: give one\n$/,
  ],
  [
    'bundle that would replace the file signed (checked before anything is signed)',
    ['sign-blob', '--key', 'nokey.pem', '--tlog-upload=false', '--bundle', 'a.txt', 'a.txt'],
    /^error: --bundle: a.txt is the file being signed: the bundle would replace it\n$/,
  ],
  [
    'bundle that is a folder (checked before anything is signed)',
    ['attest-blob', '--predicate', 'a.txt', '--tlog-upload=false', '--bundle', '.', 'a.txt'],
    /^error: --bundle: \. is a folder: give a file name\n$/,
  ],
  [
    'attest with a statement about another file',
    ['attest-blob', '--statement', 'other-statement.json', '--tlog-upload=false', 'a.txt'],
    /^error: --statement: no subject of the statement has the sha256 of a.txt/,
  ],
  [
    'attest with a statement that is not one',
    ['attest-blob', '--statement', 'bad-config.json', 'a.txt'],
    /^error: --statement: is not valid JSON \(a syntax error at position \d+\)\n$/,
  ],
  [
    'attest with both --predicate and --statement',
    ['attest-blob', '--statement', 'a.txt', '--predicate', 'a.txt', 'a.txt'],
    /^error: --statement: give either --predicate or --statement, not both/,
  ],
  ['trusted-root without server', ['trusted-root'], /^error: --server: is required/],
];

for (const [name, args, want] of cases) {
  test(`${name}: one clear line, exit 1`, () => {
    const r = run(args);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, want);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
    assert.equal(fs.existsSync(path.join(dir, 'o.json')), false);
  });
}
