import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { COMMANDS, commandsFor } from '../../src/cli/commands/index.ts';

describe('command registry (cli/commands/index.ts)', () => {
  it("each entry's names are exactly the top-level commands and aliases its module registers", async () => {
    const seen = new Set<string>();
    for (const entry of COMMANDS) {
      const program = new Command('signet');
      (await entry.load())(program);
      const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      assert.deepEqual([...entry.names].sort(), registered.sort(), `entry ${entry.names[0]}`);
      for (const n of registered) {
        assert.ok(!seen.has(n), `${n} is registered twice`);
        seen.add(n);
      }
    }
  });

  it('a command line naming a command loads only that entry', () => {
    const only = commandsFor(['sign-blob', '--bundle', 'up', 'a.txt']);
    assert.deepEqual(
      only.map((c) => c.names),
      [['sign-blob']],
    );
    assert.deepEqual(
      commandsFor(['--verbose', 'restore', 'x']).map((c) => c.names),
      [['backup', 'restore']],
    );
  });

  it('a bare --version loads no command module, and still prints the version', () => {
    assert.deepEqual(commandsFor(['--version']), []);
    assert.deepEqual(commandsFor(['-v']), []);
    const main = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const r = spawnSync(process.execPath, [main, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\S*\n$/);
  });

  it('help, completion, no command and unknown words load every entry', () => {
    for (const argv of [
      [],
      ['--help'],
      ['help', 'sign-blob'],
      ['completion', 'bash'],
      ['sing-blob'],
      ['--version', '--help'],
    ])
      assert.equal(commandsFor(argv), COMMANDS, argv.join(' '));
  });
});

describe('help of the git verify commands', () => {
  const main = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  it('--trusted-root names where their trust comes from (signet.server) and no --signature they lack', () => {
    for (const cmd of ['verify-commit', 'verify-tag', 'verify-commit-attestation']) {
      const r = spawnSync(process.execPath, [main, cmd, '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const help = r.stdout.replace(/\s+/g, ' ');
      assert.match(help, /default: the repository's signet\.server \(git setup\), else/, cmd);
      assert.doesNotMatch(help, /--signature/, cmd);
    }
    const blob = spawnSync(process.execPath, [main, 'verify-blob', '--help'], { encoding: 'utf8' });
    assert.match(
      blob.stdout.replace(/\s+/g, ' '),
      /a detached --signature still looks its log entry up/,
    );
  });
});

describe('help of a command with a default subcommand', () => {
  const main = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

  it("signet trusted-root --help (and help trusted-root) shows get's flags, which it takes", () => {
    for (const argv of [
      ['trusted-root', '--help'],
      ['help', 'trusted-root'],
    ]) {
      const r = spawnSync(process.execPath, [main, ...argv], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: signet trusted-root \[options\] \[command\]\n/);
      assert.match(r.stdout, /\nWithout a command, get runs:\n\nUsage: signet trusted-root get /);
      for (const flag of [
        /\n {2}--server <url> /,
        /\n {2}--out <file> /,
        /\n {2}--signing-config /,
        /\n {2}--tuf-root <file> /,
        /\n {2}-t, --timeout <duration> /,
      ])
        assert.match(r.stdout, flag, argv.join(' '));
    }
  });

  it('every command with a default subcommand shows its flags (one way for all)', async () => {
    const program = new Command('signet');
    for (const entry of COMMANDS) (await entry.load())(program);
    const withDefault: string[] = [];
    const visit = (cmd: Command): void => {
      // commander keeps `{ isDefault: true }` only in this field (as src/cli/main.ts reads it).
      const name = (cmd as unknown as { _defaultCommandName?: string | null })._defaultCommandName;
      const sub = cmd.commands.find((c) => c.name() === name);
      if (sub) {
        withDefault.push(cmd.name());
        let help = '';
        cmd.configureOutput({ writeOut: (t) => (help += t) });
        cmd.outputHelp();
        for (const o of sub.options) assert.ok(help.includes(o.flags), `${cmd.name()}: ${o.flags}`);
      }
      cmd.commands.forEach(visit);
    };
    visit(program);
    assert.deepEqual(withDefault, ['trusted-root']);
  });
});

describe('signet start-up', () => {
  it('requires commander rather than importing it (cli/commander.ts)', () => {
    // How each package module was asked for: a resolve hook sees the "import" condition for an
    // ES import (which lexes a CommonJS file and routes its requires through the ES loader) and
    // "require" for require().
    const hook = `import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(specifier, context, next) {
        const r = next(specifier, context);
        if (r.url.includes('/node_modules/'))
          seen.push((context.conditions.includes('import') ? 'import ' : 'require ') + r.url.replace(/.*node_modules./, ''));
        return r;
      } });
      process.on('exit', () => process.stderr.write('PACKAGES ' + JSON.stringify(seen) + '\\n'));`;
    const main = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const r = spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, main, 'sign-blob', '--help'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const line = r.stderr.split('\n').find((l) => l.startsWith('PACKAGES '));
    assert.ok(line, r.stderr);
    const packages: string[] = JSON.parse(line.slice('PACKAGES '.length));
    assert.ok(packages.includes('require commander/index.js'), packages.join(', '));
    assert.deepEqual(
      packages.filter((p) => p.startsWith('import ')),
      [],
      'a package module was imported as an ES module',
    );
  });

  it('loads no Node internals a command never uses (src/cli/main.ts on commander 14)', () => {
    // What Node loaded, printed as the process ends. Importing node:util or node:process as an
    // ES module (commander 15 does) reads every export and so loads these.
    const report = `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(process.moduleLoadList) + '\\n'))`;
    const main = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(report)}`,
        main,
        'sign-blob',
        '--help',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
    assert.ok(line, r.stderr);
    const loaded: string[] = JSON.parse(line.slice('LOADED '.length));
    assert.ok(loaded.includes('NativeModule fs'), 'a list of what Node loaded');
    for (const internal of [
      'NativeModule worker_threads',
      'NativeModule internal/util/parse_args/parse_args',
      'NativeModule internal/process/report',
    ])
      assert.ok(
        !loaded.includes(internal),
        `${internal} was loaded (node_modules must hold commander 14 as package-lock.json says: npm ci)`,
      );
  });
});
