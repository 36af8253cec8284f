import type { Command } from 'commander';
import { startStack } from '../../services/stack.ts';
import { parsePort } from '../flags.ts';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'start the whole stack (CA, CT log, transparency log, TSA, identity provider, TUF) in one process',
    )
    .option('--port <port>', 'TCP port; 0 picks a free one', process.env.SIGNET_PORT ?? '8420')
    .option('--host <host>', 'address to listen on', process.env.SIGNET_HOST ?? '127.0.0.1')
    .option(
      '--data <dir>',
      'data folder (keys, embedded database, TUF repository)',
      process.env.SIGNET_DATA ?? '.signet',
    )
    .option(
      '--database <url>',
      'postgres://... to keep the logs in PostgreSQL instead of SQLite',
      process.env.SIGNET_DATABASE,
    )
    .option(
      '--public-url <url>',
      'URL clients reach the stack at, when behind a proxy',
      process.env.SIGNET_PUBLIC_URL,
    )
    .action(
      async (o: {
        port: string;
        host: string;
        data: string;
        database?: string;
        publicUrl?: string;
      }) => {
        const stack = await startStack({
          port: parsePort(o.port, '--port'),
          host: o.host,
          dataDir: o.data,
          databaseUrl: o.database,
          publicUrl: o.publicUrl,
        });
        process.stdout.write(`signet is up at ${stack.url}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await stack.close();
        process.stdout.write('signet stopped\n');
      },
    );
}
