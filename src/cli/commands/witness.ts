import type { Command } from 'commander';
import { parsePort } from '../flags.ts';

interface WitnessFlags {
  port?: string;
  host?: string;
  data?: string;
  name?: string;
  log?: string[];
  trustedRoot?: string;
}

export function registerWitness(program: Command): void {
  program
    .command('witness')
    .description(
      'run a C2SP tlog-witness: cosign checkpoints of the configured logs when they are consistent with the last one cosigned',
    )
    .option('--port <port>', 'TCP port; 0 picks a free one (default 8421)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--data <dir>', 'folder for the witness key and its state (default ./.signet-witness)')
    .option(
      '--name <name>',
      'the witness key name, e.g. witness.example.com/w1 (default signet-witness)',
    )
    .option(
      '--log <vkey>',
      "a log to witness: its checkpoint key as a vkey whose name is the log's origin (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--trusted-root <file>', 'witness every transparency log in this trusted_root.json')
    .action(async (flags: WitnessFlags) => {
      const { witnessedLogs } = await import('../../services/witness/logs.ts');
      const { startWitness } = await import('../../services/witness/server.ts');
      const logs = witnessedLogs({ vkeys: flags.log ?? [], trustedRootFile: flags.trustedRoot });
      const w = await startWitness({
        port: flags.port !== undefined ? parsePort(flags.port, '--port') : 8421,
        host: flags.host ?? '127.0.0.1',
        dataDir: flags.data ?? '.signet-witness',
        name: flags.name ?? 'signet-witness',
        logs,
      });
      process.stdout.write(
        `signet witness is up at ${w.url}\n  witness key: ${w.vkey}\n  logs: ${logs.map((l) => l.origin).join(', ')}\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await w.close();
    });
}
