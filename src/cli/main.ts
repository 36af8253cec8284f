import { Command, CommanderError } from 'commander';
import { SignetError } from '../core/errors.ts';
import { COMMANDS } from './commands/index.ts';

/**
 * The `signet` command. Each command lives in its own module under cli/commands and is
 * registered from commands/index.ts. Errors end as one clear line on stderr and exit code 1,
 * never a stack trace (set SIGNET_DEBUG=1 to see one).
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('signet')
    .description('Software signing that anyone can run: a self-hostable Sigstore and its client')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    reportError(e);
    return 1;
  }
}

export function reportError(e: unknown): void {
  if (process.env.SIGNET_DEBUG) console.error(e);
  const msg = e instanceof SignetError ? e.message : e instanceof Error ? e.message : String(e);
  console.error(`error: ${msg}`);
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
