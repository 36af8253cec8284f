import type { Command } from 'commander';
import { registerUp } from './up.ts';

/** Every `signet` command, one module each. Add a line per new command. */
export const COMMANDS: Array<(program: Command) => void> = [registerUp];
