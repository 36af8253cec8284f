import assert from 'node:assert/strict';
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

  it('help, completion, no command and unknown words load every entry', () => {
    for (const argv of [
      [],
      ['--help'],
      ['help', 'sign-blob'],
      ['completion', 'bash'],
      ['sing-blob'],
    ])
      assert.equal(commandsFor(argv), COMMANDS, argv.join(' '));
  });
});
