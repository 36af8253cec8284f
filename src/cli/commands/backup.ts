import type { Command } from 'commander';
import type { BackupReport } from '../../services/backup.ts';

function summary(r: BackupReport): string {
  const logs = r.databases
    .flatMap((d) => d.logs.map((l) => `${l.name} ${l.size} entries`))
    .join(', ');
  return `${r.files} files${logs ? `; logs: ${logs}` : ''}`;
}

/** No SQLite log files: the stack keeps its logs in PostgreSQL, which a backup does not copy. */
const inPostgres = (r: BackupReport): boolean => r.databases.length === 0;

/** Whether the backup holds any log (SQLite files with a log in them). */
const holdsLogs = (r: BackupReport): boolean => r.databases.some((d) => d.logs.length > 0);

/** `signet backup --data DIR OUT` and `signet restore BACKUP --data DIR` (services/backup.ts). */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      "copy a stack's data folder (keys, TUF repository, SQLite logs) into a new folder; safe while the stack runs",
    )
    .argument('<out>', 'the backup folder (new or empty)')
    .option('--data <dir>', 'data folder of the stack (env SIGNET_DATA; default ./.signet)')
    .action(async (out: string, flags: { data?: string }) => {
      const { backupDataDir } = await import('../../services/backup.ts');
      const dataDir = flags.data ?? process.env.SIGNET_DATA ?? '.signet';
      const r = await backupDataDir(dataDir, out);
      process.stdout.write(
        `backed up ${dataDir} to ${out}: ${summary(r)}${inPostgres(r) ? '; no log files: logs kept in PostgreSQL are not in it (back them up with pg_dump)' : ''}\n`,
      );
      const path = process.getBuiltinModule('node:path');
      for (const b of r.leftOut ?? [])
        process.stderr.write(
          `warning: left out ${path.join(dataDir, b)}: it is a backup, not part of the stack; move it out of the data folder\n`,
        );
    });
  program
    .command('restore')
    .description(
      'bring a backup back into a new or empty data folder, then start it with signet up',
    )
    .argument('<backup>', 'a folder written by signet backup')
    .option('--data <dir>', 'the data folder to create (env SIGNET_DATA; default ./.signet)')
    .action(async (backup: string, flags: { data?: string }) => {
      const { restoreDataDir } = await import('../../services/backup.ts');
      const dataDir = flags.data ?? process.env.SIGNET_DATA ?? '.signet';
      const r = restoreDataDir(backup, dataDir);
      process.stdout.write(
        `restored ${backup} into ${dataDir}: ${summary(r)}\nStart it with: signet up --data ${dataDir}${inPostgres(r) ? ' --database URL (the PostgreSQL database holding its logs, restored with pg_restore if need be)' : ''}\n`,
      );
      // The backup cannot know what was published after it was taken.
      if (holdsLogs(r))
        process.stderr.write(
          'warning: the logs go on from the backup: if entries were made after it, their checkpoints are out, and new entries would fork the logs (with witnesses configured, signet up refuses such data)\n',
        );
      // Its logs stay in the database, where the same holds of a dump restored into it.
      else if (inPostgres(r))
        process.stderr.write(
          'warning: the backup holds no logs (they are kept in PostgreSQL): start it with the database that holds them, as it is or restored from its newest dump only (an older dump lacks entries whose checkpoints are out, and new entries would fork the logs)\n',
        );
    });
}
