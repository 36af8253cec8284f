import type { Command } from 'commander';
import { signetVersion } from '../version.ts';

/** `signet version` (also `signet --version`): what cosign's version command prints, briefly. */
export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version of signet and of the Node.js running it')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const info = {
        gitVersion: signetVersion(),
        nodeVersion: process.versions.node,
        platform: `${process.platform}/${process.arch}`,
      };
      if (flags.json) console.log(JSON.stringify(info, null, 2));
      else
        console.log(
          `signet ${info.gitVersion}\nNode.js: ${info.nodeVersion}\nPlatform: ${info.platform}`,
        );
    });
}
