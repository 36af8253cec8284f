/**
 * What a cosign user meets first: errors in one line, cosign's exit codes, the deprecated flags
 * with cosign's warnings, boolean flags as cobra reads them, version/completion/env, and
 * public-good bundles that verify with nothing but the identity flags (the shipped TUF root, no
 * network). Everything runs through the real `bin/signet` process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { freePort as closedPort } from '../helpers/ports.ts';
import os from 'node:os';
import path from 'node:path';
import { ENVIRONMENT } from '../../src/cli/commands/env.ts';

const bin = path.resolve('bin/signet');
const C = path.resolve('test/fixtures/conformance');
const happy = path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json');
const keyed = path.join(C, 'bundle-verify/managed-key-happy-path');
const artifact = path.join(C, 'bundle-verify/a.txt');
const root = path.join(C, 'trust-roots/production/trusted_root.json');
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const id = ['--certificate-identity', SAN, '--certificate-oidc-issuer', ISS];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-compat-'));

/** No trust flags and no network: the default mirror is a closed loopback port, the cache empty. */
async function noNetworkEnv(): Promise<Record<string, string>> {
  return {
    TUF_MIRROR: `http://127.0.0.1:${await closedPort()}`,
    SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(tmp, 'cache-')),
  };
}

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.SIGNET_SERVER;
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  return spawnSync(bin, args, { encoding: 'utf8', env: e, input: '' });
}

/** One `error:` line (after any cosign deprecation warnings), the exit code, no stack trace. */
function fails(r: ReturnType<typeof run>, code: number, re: RegExp) {
  assert.equal(r.status, code, r.stderr);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('Flag --'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
}

test('an unknown flag prints the error and where the help is, in one line, not the help', () => {
  const r = run(['verify-blob', '--no-such-flag', artifact]);
  fails(r, 1, /^error: unknown option '--no-such-flag'; see 'signet verify-blob --help'$/);
  assert.equal(r.stdout, '');
  fails(run(['frobnicate']), 1, /unknown command 'frobnicate'; see 'signet --help'/);
  fails(
    run(['sign-blob', '--bundle']),
    1,
    /option '--bundle <file>' argument missing; see 'signet sign-blob --help'/,
  );
  fails(
    run(['verify-commit', 'HEAD', 'HEAD~1']),
    1,
    /^error: too many arguments for 'verify-commit'\. Expected 1 argument but got 2; see 'signet verify-commit --help'$/,
  );
});

test('a command group without its command, or signet alone, prints the help on stderr and exits 1', () => {
  for (const args of [[], ['git'], ['policy']]) {
    const r = run(args);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      new RegExp(`^Usage: ${['signet', ...args].join(' ')} \\[options\\] \\[command\\]\n`),
    );
    assert.match(r.stderr, /\nCommands:\n/);
    assert.doesNotMatch(r.stderr, /error:|outputHelp/);
  }
});

test('signet version and --version print the package version', () => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
  let r = run(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), pkg.version);
  r = run(['version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, new RegExp(`^signet ${pkg.version.replace(/\./g, '\\.')}\\n`));
  r = run(['version', '--json']);
  assert.equal(JSON.parse(r.stdout).gitVersion, pkg.version);
});

test('completion bash|zsh|fish: scripts generated from the registered commands and flags', () => {
  const bash = run(['completion', 'bash']);
  assert.equal(bash.status, 0, bash.stderr);
  const file = path.join(tmp, 'signet.bash');
  fs.writeFileSync(file, bash.stdout);
  // bash itself parses it, and completing "signet verify-blob --insecure-i" offers the flag
  const out = spawnSync(
    'bash',
    [
      '-c',
      `source ${file}; COMP_WORDS=(signet verify-blob --insecure-ignore-t); COMP_CWORD=2; _signet; echo "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.trim(), '--insecure-ignore-tlog');
  const first = spawnSync(
    'bash',
    [
      '-c',
      `source ${file}; COMP_WORDS=(signet verify-blob-a); COMP_CWORD=1; _signet; echo "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(first.stdout.trim(), 'verify-blob-attestation');
  const zsh = run(['completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef signet/);
  assert.match(zsh.stdout, /'--certificate-identity\[/);
  const fish = run(['completion', 'fish']);
  assert.match(
    fish.stdout,
    /complete -c signet -n '__fish_seen_subcommand_from sign-blob' -l 'bundle'/,
  );
  fails(run(['completion', 'powershell']), 1, /shell: "powershell" is not bash, zsh or fish/);
});

test('signet env lists the variables it reads and masks secrets', () => {
  let r = run(['env'], { COSIGN_PASSWORD: 'hunter2', TUF_ROOT: '/x/tuf' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^COSIGN_PASSWORD="\*\*\*\*\*\*"$/m);
  assert.match(r.stdout, /^TUF_ROOT="\/x\/tuf"$/m);
  for (const v of [
    'SIGSTORE_ROOT_FILE',
    'TUF_MIRROR',
    'SIGSTORE_ID_TOKEN',
    'SIGSTORE_REKOR_PUBLIC_KEY',
    'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
    'SIGSTORE_TSA_CERTIFICATE_FILE',
    'SIGNET_SERVER',
  ])
    assert.match(r.stdout, new RegExp(`^${v}=`, 'm'));
  r = run(['env', '--show-sensitive-values', '--show-descriptions'], {
    COSIGN_PASSWORD: 'hunter2',
  });
  assert.match(r.stdout, /# passphrase of cosign.key files\nCOSIGN_PASSWORD="hunter2"/);
  // Every SIGNET_ variable the sources read is listed (a variable added must be listed too).
  const read = new Set<string>();
  for (const f of fs.readdirSync('src', { recursive: true, encoding: 'utf8' }))
    if (f.endsWith('.ts'))
      for (const m of fs
        .readFileSync(path.join('src', f), 'utf8')
        .matchAll(/env(?:\.|\[')(SIGNET_[A-Z0-9_]+)/g))
        read.add(m[1]!);
  assert.ok(read.size >= 10, [...read].join(' '));
  const listed = new Set(ENVIRONMENT.map((v) => v.name));
  assert.deepEqual(
    [...read].filter((v) => !listed.has(v)),
    [],
  );
});

test("cosign's exit codes: 10 no signature, 11 not found, 12 no matching signature, 13 no certificate", () => {
  const t = ['--trusted-root', root];
  fails(
    run(['verify-blob', artifact, '--bundle', path.join(tmp, 'none.json'), ...id, ...t]),
    10,
    /--bundle: .*none\.json does not exist; check the path/,
  );
  fails(
    run(['verify-blob', path.join(tmp, 'missing.txt'), '--bundle', happy, ...id, ...t]),
    11,
    /artifact: .*missing\.txt does not exist; check the path/,
  );
  fails(
    run(['verify-blob', root, '--bundle', happy, ...id, ...t]),
    12,
    /is not the digest the bundle says was signed/,
  );
  fails(
    run([
      'verify-blob',
      artifact,
      '--bundle',
      path.join(keyed, 'bundle.sigstore.json'),
      ...id,
      ...t,
    ]),
    13,
    /signed with a public key, not a certificate.*verify it with --key/,
  );
  // other failures stay 1
  fails(
    run(['verify-blob', artifact, '--bundle', happy, ...t]),
    1,
    /--certificate-identity: is required/,
  );
});

test('deprecated flags are accepted with the warning cosign prints; the meaningful ones act', async () => {
  let r = run([
    'verify-blob',
    artifact,
    '--bundle',
    happy,
    ...id,
    '--trusted-root',
    root,
    '--new-bundle-format',
    '--max-workers',
    '4',
    '--rekor-url',
    'https://rekor.sigstore.dev',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^Flag --new-bundle-format has been deprecated, this will be the only supported format in future versions$/m,
  );
  assert.match(
    r.stderr,
    /^Flag --rekor-url has been deprecated, please use --bundle, which includes the Rekor inclusion proof$/m,
  );
  assert.match(r.stderr, /Verified OK/);
  // cobra's boolean syntax: --flag=false, --flag=1; a bad value is named
  r = run([
    'verify-blob',
    artifact,
    '--bundle',
    happy,
    ...id,
    '--trusted-root',
    root,
    '--insecure-ignore-sct=false',
    '--use-signed-timestamps=0',
  ]);
  assert.equal(r.status, 0, r.stderr);
  fails(
    run([
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      ...id,
      '--trusted-root',
      root,
      '--insecure-ignore-tlog=maybe',
    ]),
    1,
    /--insecure-ignore-tlog: "maybe" is not true or false/,
  );
  // `--flag false` turns the flag on in cobra and reads "false" as an argument: refused
  for (const [flag, word, long] of [
    ['--insecure-ignore-tlog', 'false', '--insecure-ignore-tlog'],
    ['--use-signed-timestamps', 'TRUE', '--use-signed-timestamps'],
  ])
    fails(
      run([
        'verify-blob',
        '--bundle',
        happy,
        ...id,
        '--trusted-root',
        root,
        flag!,
        word!,
        artifact,
      ]),
      1,
      new RegExp(
        `^error: ${flag}: is followed by "${word}": a boolean flag takes its value after "=" \\(${long}=${word!.toLowerCase()}\\)`,
      ),
    );
  // after `--` the words are arguments, as everywhere
  fails(
    run([
      'verify-blob',
      '--bundle',
      happy,
      ...id,
      '--trusted-root',
      root,
      '--',
      '--offline',
      'false',
    ]),
    1,
    /^error: --bundle: is about one artifact; with 2 artifacts/,
  );
  fails(
    run([
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      ...id,
      '--trusted-root',
      root,
      '--max-workers',
      '0',
    ]),
    1,
    /--max-workers: "0" is not a positive whole number/,
  );
  // --use-signed-timestamps requires a TSA timestamp, which this bundle does not have
  fails(
    run([
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      ...id,
      '--trusted-root',
      root,
      '--use-signed-timestamps',
    ]),
    12,
    /0 verified RFC 3161 timestamps; 1 is required \(--use-signed-timestamps\)/,
  );
  // what cannot mean anything here is refused with the reason, not silently ignored
  fails(
    run(['verify-blob', artifact, '--bundle', happy, ...id, '--ca-roots', root]),
    1,
    /--ca-roots: is not supported: put the CA certificates in a trusted root/,
  );
  fails(
    run(['verify-blob', artifact, '--bundle', happy, '--sk']),
    1,
    /--sk: hardware security keys are not supported/,
  );
  // TUF_ROOT_JSON names a file: the JSON itself is refused by name (not ENAMETOOLONG with it)
  fails(
    run(['verify-blob', artifact, '--bundle', happy, ...id], {
      ...(await noNetworkEnv()),
      TUF_ROOT_JSON: '{"signed": {}}',
    }),
    1,
    /^error: TUF_ROOT_JSON: holds JSON: it names the root\.json file, so give the file's path$/,
  );
  fails(
    run(['sign-blob', '--slot', '9c', '--bundle', path.join(tmp, 'x.json'), artifact]),
    1,
    /^error: --slot: hardware security keys are not supported/,
  );
  // cosign's KMS and other key references: refused by name, not looked for as files (env://
  // is read: test/cli/file-or-url.test.ts). A PKCS#11 URI is RFC 7512's pkcs11:... (as cosign
  // takes it); pkcs11:// the same line, in any case.
  for (const [key, scheme, caseFlag] of [
    ['awskms://localhost/alias/x', 'awskms://', ''],
    ['hashivault://k', 'hashivault://', ''],
    ['gitlab://group/project', 'gitlab://', ''],
    ['pkcs11:token=t;object=k', 'pkcs11:', 'i'],
    ['pkcs11://x', 'pkcs11:', 'i'],
    ['PKCS11:foo', 'pkcs11:', 'i'],
  ] as const)
    for (const cmd of [
      ['sign-blob', '--key', key, '--bundle', path.join(tmp, 'x.json'), artifact],
      ['verify-blob', '--key', key, '--bundle', happy, artifact],
    ])
      fails(
        run(cmd),
        1,
        new RegExp(
          `^error: --key: ${key.replace(/[/.]/g, '\\$&')} is a key reference \\(${scheme}\\), cosign's way to a KMS, Vault, Kubernetes, PKCS#11 or GitLab key; Signet takes a key file, an http\\(s\\) URL or env://VAR`,
          caseFlag,
        ),
      );
  // -y and --use-signing-config are accepted quietly, as cosign does
  r = run([
    'sign-blob',
    '-y',
    '--use-signing-config=false',
    '--bundle',
    path.join(tmp, 'x.json'),
    path.join(tmp, 'nofile'),
  ]);
  fails(r, 1, /file: .*nofile does not exist/);
});

test('identity regexps match the whole value, and a cosign-style partial pattern is explained', () => {
  const r = run([
    'verify-blob',
    artifact,
    '--bundle',
    happy,
    '--certificate-identity-regexp',
    'sigstore-conformance',
    '--certificate-oidc-issuer',
    ISS,
    '--trusted-root',
    root,
  ]);
  fails(
    r,
    12,
    /not to a value matching .*sigstore-conformance.* \(the expression matches only part of it: signet matches the WHOLE value/,
  );
  const whole = run([
    'verify-blob',
    artifact,
    '--bundle',
    happy,
    '--certificate-identity-regexp',
    'https://github\\.com/sigstore-conformance/.*',
    '--certificate-oidc-issuer-regexp',
    'https://token\\.actions\\..*',
    '--trusted-root',
    root,
  ]);
  assert.equal(whole.status, 0, whole.stderr);
});

test('the label names the argument the user gave: a positional bundle is not --bundle', () => {
  fails(
    run(['inspect', path.join(tmp, 'gone.json')]),
    10,
    /^error: bundle: .*gone\.json does not exist/,
  );
  const dir = fs.mkdtempSync(path.join(tmp, 'dir-'));
  fails(
    run(['verify-blob', artifact, '--bundle', dir, ...id, '--trusted-root', root]),
    1,
    /--bundle: .*is a folder, not a file/,
  );
  const bad = path.join(tmp, 'bad.json');
  fs.writeFileSync(bad, '{"mediaType": x}');
  const r = run(['inspect', bad]);
  fails(
    r,
    1,
    /^error: bundle: .*bad\.json is not a valid Sigstore bundle: is not valid JSON \(unexpected "x"\)$/,
  );
  assert.doesNotMatch(r.stderr, /Unexpected token/);
});

test('public-good bundles verify with only the identity flags: shipped root, no network', async () => {
  const env = await noNetworkEnv();
  let r = run(['verify-blob', artifact, '--bundle', happy, ...id], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Verified OK: signed by https:\/\/github\.com\/sigstore-conformance/);
  // --offline: not even the mirror is tried
  r = run(['verify-blob', artifact, '--bundle', happy, ...id, '--offline'], {
    ...env,
    TUF_MIRROR: undefined,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Flag --offline has been deprecated/);
  // the shipped root does not make a tampered bundle pass
  const tampered = JSON.parse(fs.readFileSync(happy, 'utf8'));
  tampered.messageSignature.signature = Buffer.from('x'.repeat(70)).toString('base64');
  const f = path.join(tmp, 'tampered.json');
  fs.writeFileSync(f, JSON.stringify(tampered));
  fails(run(['verify-blob', artifact, '--bundle', f, ...id], env), 12, /signature does not verify/);
});

test("cosign's -t/--timeout before the command goes to the command; where nothing is asked it is only checked", async () => {
  // A server that takes the connection and never answers (the kernel accepts it while the
  // test waits on the child).
  const hang = net.createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const server = `http://127.0.0.1:${(hang.address() as net.AddressInfo).port}`;
  try {
    for (const flag of [['-t', '1s'], ['--timeout=1s']]) {
      const t0 = Date.now();
      const r = run([
        ...flag,
        'verify-blob',
        '--server',
        server,
        '--bundle',
        happy,
        ...id,
        artifact,
      ]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^error: .*no answer within 1 s/, flag.join(' '));
      assert.ok(Date.now() - t0 < 8000, `${flag.join(' ')}: took ${Date.now() - t0} ms`);
    }
  } finally {
    hang.close();
  }
  assert.equal(run(['-t', '5s', 'version']).status, 0);
  fails(
    run(['--timeout=abc', 'version']),
    1,
    /^error: --timeout: "abc" is not a positive duration/,
  );
  fails(run(['-t']), 1, /^error: --timeout: needs a duration/);
});

test('trusted-root (get) and sign-bundle take -t/--timeout, before or after the command: a server that never answers is given up on at it', async () => {
  const hang = net.createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const server = `http://127.0.0.1:${(hang.address() as net.AddressInfo).port}`;
  // A signing config whose CA and log are that server, and a token that reads as one (the CA,
  // which would check it, is never reached).
  const config = path.join(tmp, 'hanging_signing_config.json');
  const at = (url: string) => ({
    url,
    majorApiVersion: 1,
    validFor: { start: '2020-01-01T00:00:00Z' },
    operator: 'test',
  });
  fs.writeFileSync(
    config,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [at(server)],
      rekorTlogUrls: [at(server)],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    }),
  );
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const token = `${part({ alg: 'RS256' })}.${part({ iss: 'https://issuer.example', sub: 'dev@example.com', email: 'dev@example.com', aud: 'sigstore', iat: now, exp: now + 3600 })}.c2ln`;
  const out = path.join(tmp, 'never.sigstore.json');
  const sign = ['--identity-token', token, '--bundle', out];
  const cases: Array<[string[], RegExp]> = [
    [
      ['trusted-root', '--server', server, '-t', '1s'],
      /the TUF repository at \S+\/tuf\/1\.root\.json/,
    ],
    [
      ['-t', '1s', 'trusted-root', '--server', server],
      /the TUF repository at \S+\/tuf\/1\.root\.json/,
    ],
    [
      ['--timeout=1s', 'trusted-root', 'get', '--signing-config', '--server', server],
      /the TUF repository at \S+\/tuf\/1\.root\.json/,
    ],
    [
      ['sign-bundle', '--timeout', '1s', '--signing-config', config, ...sign, artifact],
      /the CA \(Fulcio\) at \S+\/api\/v2\/signingCert/,
    ],
    [
      ['-t', '1s', 'sign-bundle', '--server', server, ...sign, artifact],
      /the TUF repository at \S+\/tuf\/1\.root\.json/,
    ],
  ];
  try {
    for (const [args, what] of cases) {
      const t0 = Date.now();
      const r = run(args, await noNetworkEnv());
      fails(r, 1, new RegExp(`cannot reach ${what.source}: no answer within 1 s$`));
      assert.ok(Date.now() - t0 < 8000, `${args.join(' ')}: took ${Date.now() - t0} ms`);
      assert.equal(fs.existsSync(out), false, 'no bundle written');
    }
  } finally {
    hang.close();
  }
});

test("cosign's root flags before or after the command: --output-file and -d/--verbose", () => {
  // --output-file: what the command prints on stdout goes to the file.
  const out = path.join(tmp, 'version.txt');
  const before = run(['--output-file', out, 'version']);
  assert.equal(before.status, 0, before.stderr);
  assert.equal(before.stdout, '');
  assert.match(fs.readFileSync(out, 'utf8'), /^signet \d+\.\d+\.\d+\nNode.js: /);
  const after = run(['version', `--output-file=${out}`]);
  assert.equal(after.stdout, '');
  assert.equal(fs.readFileSync(out, 'utf8'), run(['version']).stdout);
  const nowhere = run(['--output-file', path.join(tmp, 'no-such-dir', 'x'), 'version']);
  assert.equal(nowhere.status, 1);
  assert.match(
    nowhere.stderr,
    /^error: --output-file: cannot write .*no-such-dir\/x: folder .*no-such-dir does not exist\n$/,
  );
  const empty = run(['version', '--output-file']);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /^error: --output-file: needs a file name/);
  // -d / --verbose: an error with its stack, where it is one line without.
  const plain = run(['verify-blob', '--bundle', happy, artifact], { SIGNET_DEBUG: undefined });
  assert.equal(plain.stderr.trim().split('\n').length, 1, plain.stderr);
  for (const flag of ['-d', '--verbose']) {
    const debug = run([flag, 'verify-blob', '--bundle', happy, artifact], {
      SIGNET_DEBUG: undefined,
    });
    assert.equal(debug.status, plain.status);
    assert.match(debug.stderr, /\n\s+at /, flag);
  }
});
