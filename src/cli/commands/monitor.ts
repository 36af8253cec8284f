import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import type { MonitorFlags } from '../../client/monitor/setup.ts';

const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function registerMonitor(program: Command): void {
  program
    .command('monitor')
    .description(
      "watch transparency and CT logs: alert when the log's history changes or an identity you watch appears",
    )
    .option('--trusted-root <file>', 'trusted_root.json naming the logs and their keys')
    .option('--server <url>', 'a Signet server whose trusted root (through TUF) names the logs')
    .option('--tuf-root <file>', "pin the server's TUF root.json")
    .option('--config <file>', 'identities to watch for (rekor-monitor YAML or JSON)')
    .option('--state <file>', 'where to keep what was verified, to continue from there')
    .option('--log <url>', 'follow only this log of the trusted root (repeatable)', repeat)
    .option(
      '--read-from <[from=]url>',
      'read the logs whose trusted-root URL starts with FROM at URL instead (a moved stack, a mirror; repeatable); a bare URL: the one log followed',
      repeat,
    )
    .option(
      '--compare <file|url>',
      'a checkpoint of the log seen elsewhere that must agree (repeatable)',
      repeat,
    )
    .option(
      '--witness-key <vkey|file>',
      'a witness whose cosignature checkpoints must carry (repeatable)',
      repeat,
    )
    .option('--witness-threshold <n>', 'how many of the --witness-key witnesses must have cosigned')
    .option('--webhook <url>', 'POST each alert as JSON to this URL (repeatable)', repeat)
    .option(
      '--webhook-secret <secret>',
      'HMAC-SHA256 key for the X-Signet-Signature-256 header (env SIGNET_WEBHOOK_SECRET)',
    )
    .option(
      '--once',
      'one pass, then exit: 0 nothing found, 2 an identity matched, 3 a log misbehaved, 1 an error',
    )
    .option('--interval <seconds>', 'time between passes when polling (default 300)')
    .action(async (flags: MonitorFlags) => {
      let interval = 300;
      if (flags.interval !== undefined) {
        if (!/^[1-9][0-9]{0,6}$/.test(flags.interval))
          throw invalid('--interval', `"${flags.interval}" is not a whole number of seconds`);
        interval = Number(flags.interval);
      }
      const { monitorFromFlags } = await import('../../client/monitor/setup.ts');
      const monitor = await monitorFromFlags(flags);
      if (flags.once) {
        const r = await monitor.pass();
        process.exitCode = r.problems > 0 ? 3 : r.matched > 0 ? 2 : r.errors > 0 ? 1 : 0;
        return;
      }
      let stop = false;
      let wake: () => void = () => {};
      const onSignal = () => {
        stop = true;
        wake();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      while (!stop) {
        await monitor.pass();
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, interval * 1000);
        });
      }
    });
}
