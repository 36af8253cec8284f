/**
 * commander, loaded with require rather than `import`: it is CommonJS, and Node brings a
 * CommonJS package into an ES module graph by lexing each of its files for named exports
 * (cjs-module-lexer) and routing every nested require through the ES loader (hyperfine: `import 'commander'` 9 ms
 * over an empty module, require 2.7 ms; about 3 ms of CPU in a whole `signet sign-blob --help`).
 * The CLI takes Command, CommanderError and Option from here; test/cli/commands.test.ts checks
 * that no package module is reached through an ES import on a start.
 *
 * commander 14 (CommonJS), not 15: 15 is the same code as ES modules, and importing
 * node:util, node:process, node:fs and node:child_process as ES modules reads every export of
 * each, which loads their lazy parts (worker_threads, parseArgs, process.report, ...): ~20 ms
 * of every start.
 */
import type * as Commander from 'commander';

const commander = process.getBuiltinModule('node:module').createRequire(import.meta.url)(
  'commander',
) as typeof Commander;

export const Command = commander.Command;
export type Command = Commander.Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = Commander.CommanderError;
export const Option = commander.Option;
export type Option = Commander.Option;
