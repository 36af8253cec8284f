// commander through cli/commander.ts (required, not imported: its comment says why).
import { Command, CommanderError } from './commander.ts';
import { commandsFor } from './commands/index.ts';
import { exitCodeFor, exitOnClosedStdout, ignoreClosedStderr, reportError } from './errors.ts';
import { describeWriteError, invalid } from '../core/errors.ts';
import { boolArgs } from './options.ts';
import { parseDuration } from './flags.ts';
import { isEntry } from './entry.ts';
import { signetVersion } from './version.ts';

export { reportError } from './errors.ts';

/**
 * The `signet` command. Each command lives in its own module under cli/commands and is
 * registered from commands/index.ts, which loads only the module of the command run. Errors end as one clear line on stderr and cosign's exit
 * codes (cli/errors.ts), never a stack trace (set SIGNET_DEBUG=1 to see one).
 */
export async function main(given: string[]): Promise<number> {
  let argv: string[];
  let timeout: string | undefined;
  try {
    ({ rest: argv, timeout } = leadingTimeout(rootFlags(given)));
  } catch (e) {
    reportError(e);
    return exitCodeFor(e);
  }
  const program = new Command('signet')
    .description('Software signing that anyone can run: a self-hostable Sigstore and its client')
    .version(signetVersion(), '-v, --version', 'print the version')
    // Usage errors are printed by main, in one line with a pointer to the command's help.
    .configureOutput({ outputError: () => {} })
    .addHelpText(
      'after',
      '\nAnywhere on the line, as cosign takes them:\n  --output-file <file>  write what the command prints on stdout to this file\n  -d, --verbose         print errors with their stack trace (as SIGNET_DEBUG=1)',
    )
    .exitOverride();
  // Only the named command's module (commands/index.ts), in the order help lists them.
  for (const register of await Promise.all(commandsFor(argv).map((c) => c.load())))
    register(program);
  try {
    if (timeout !== undefined) argv = withTimeout(commandOf(program, argv), argv, timeout);
    await program.parseAsync(boolArgs(commandOf(program, argv), argv), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      // A group named without its command (`signet git`): commander has printed the group's
      // help on stderr, which is the whole answer (its message is a placeholder, "(outputHelp)").
      if (e.code === 'commander.help') return e.exitCode;
      const name = commandPath(commandOf(program, argv));
      // commander ends some messages with a period ("... but got 2."), before our "; see"
      const msg = e.message
        .replace(/^error:\s*/, '')
        .replace(/\s*\n\s*/g, ' ')
        .replace(/\.$/, '');
      console.error(`error: ${msg}; see '${name} --help'`);
      return 1;
    }
    reportError(e);
    return exitCodeFor(e);
  }
}

/**
 * cosign's root flags, taken before or after the command as cosign's persistent flags are:
 * `--output-file FILE` sends what the command prints on stdout to FILE (cosign swaps stdout
 * the same way), `-d`/`--verbose` prints errors with their stack (as SIGNET_DEBUG=1). Returns
 * the other arguments; everything after `--` is left alone.
 */
function rootFlags(argv: string[]): string[] {
  const rest: string[] = [];
  let outputFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '-d' || a === '--verbose') process.env.SIGNET_DEBUG ??= '1';
    else if (a === '--output-file') {
      outputFile = argv[++i];
      if (outputFile === undefined || outputFile === '')
        throw invalid('--output-file', 'needs a file name');
    } else if (a.startsWith('--output-file=')) outputFile = a.slice('--output-file='.length);
    else rest.push(a);
  }
  if (outputFile !== undefined) {
    const fs = process.getBuiltinModule('node:fs');
    let fd: number;
    try {
      fd = fs.openSync(outputFile, 'w');
    } catch (e) {
      throw invalid('--output-file', describeWriteError(e, outputFile), e);
    }
    // Synchronous writes: nothing is lost when the process ends right after.
    process.stdout.write = ((chunk: string | Uint8Array, ...more: unknown[]) => {
      if (typeof chunk === 'string') fs.writeSync(fd, chunk);
      else fs.writeSync(fd, chunk);
      const done = more.find((m) => typeof m === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  }
  return rest;
}

/**
 * The deepest command the arguments name (`signet bundle inspect ...` -> inspect), and where
 * they name none of a command's subcommands, its default one, which commander runs then
 * (`signet trusted-root --server URL` -> get): that command's flags are the ones given.
 */
function commandOf(program: Command, argv: string[]): Command {
  let cmd = program;
  for (const a of argv) {
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    cmd = sub;
  }
  // commander keeps `{ isDefault: true }` only in this field; it has no getter for it.
  const fallback = (cmd as unknown as { _defaultCommandName?: string | null })._defaultCommandName;
  return cmd.commands.find((c) => c.name() === fallback) ?? cmd;
}

/**
 * cosign's `-t`/`--timeout` is a flag of its root command, so it may come before the command
 * (`cosign -t 30s verify-blob ...`): taken from there (everything before the first word that is
 * not a flag) to be given to the command.
 */
function leadingTimeout(argv: string[]): { rest: string[]; timeout: string | undefined } {
  const rest: string[] = [];
  let timeout: string | undefined;
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--'; i++) {
    const a = argv[i]!;
    const inline = /^(?:--timeout=|-t=?)(.+)$/.exec(a);
    if (inline && a !== '-t') timeout = inline[1];
    else if (a === '-t' || a === '--timeout') {
      timeout = argv[++i];
      if (timeout === undefined) throw invalid('--timeout', 'needs a duration (30s, 3m0s)');
    } else rest.push(a);
  }
  return { rest: [...rest, ...argv.slice(i)], timeout };
}

/**
 * The leading --timeout given to the command that takes it (before any `--`). A command that
 * makes no requests and has no such flag (version, env, completion) only has it checked, as
 * cosign's accept it and have nothing to bound.
 */
function withTimeout(cmd: Command, argv: string[], timeout: string): string[] {
  if (!cmd.options.some((o) => o.long === '--timeout')) {
    parseDuration(timeout, '--timeout');
    return argv;
  }
  const end = argv.indexOf('--');
  const at = end === -1 ? argv.length : end;
  return [...argv.slice(0, at), '--timeout', timeout, ...argv.slice(at)];
}

/** "signet bundle inspect" */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

if (isEntry(import.meta)) {
  process.stdout.on('error', exitOnClosedStdout);
  process.stderr.on('error', ignoreClosedStderr);
  process.exitCode = await main(process.argv.slice(2));
}
