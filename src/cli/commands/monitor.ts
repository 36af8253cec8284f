import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { addBool } from '../options.ts';
import type { MonitorFlags } from '../../client/monitor/setup.ts';
import type { PassResult } from '../../client/monitor/monitor.ts';

const repeat = (v: string, prev: string[] = []) => [...prev, v];

/** The longest wait a timer takes (2^31-1 ms, about 24.8 days); longer ones fire at once. */
const MAX_INTERVAL_MS = 2 ** 31 - 1;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/**
 * `--interval`: whole seconds, or a Go duration as rekor-monitor takes it (`1h`, `5m`, `1h30m`,
 * `90s`, `1.5h`). Milliseconds, at least one second.
 */
export function parseInterval(text: string): number {
  let ms: number | undefined;
  if (/^[0-9]+$/.test(text)) ms = Number(text) * 1000;
  else if (/^(?:[0-9]+(?:\.[0-9]+)?(?:h|m|s|ms))+$/.test(text)) {
    ms = 0;
    for (const [, n, unit] of text.matchAll(/([0-9.]+)(ms|h|m|s)/g))
      ms += Number(n) * UNIT_MS[unit!]!;
  }
  if (ms === undefined)
    throw invalid('--interval', `"${text}" is not seconds or a duration such as 5m or 1h`);
  if (ms < 1000 || ms > MAX_INTERVAL_MS)
    throw invalid('--interval', `"${text}" is not between 1s and 24 days`);
  return Math.round(ms);
}

/**
 * `--once`'s exit code. A failed log check wins over an identity match: a log that misbehaved
 * (3) or could not be checked (1) leaves the pass's view of it unproven, which is what the
 * caller must hear first (rekor-monitor stops a run whose consistency check fails before it
 * searches identities). The matches are printed all the same.
 */
export function onceExitCode(r: PassResult): number {
  if (r.problems > 0) return 3;
  if (r.errors > 0) return 1;
  return r.matched > 0 ? 2 : 0;
}

export function registerMonitor(program: Command): void {
  const cmd = program
    .command('monitor')
    .description(
      "watch transparency and CT logs: alert when the log's history changes or an identity you watch appears",
    )
    .option('--trusted-root <file>', 'trusted_root.json naming the logs and their keys')
    .option('--server <url>', 'a Signet server whose trusted root (through TUF) names the logs')
    .option('--tuf-root <file>', "pin the server's TUF root.json")
    .option(
      '--config <file|yaml>',
      "identities to watch for (rekor-monitor's YAML or JSON): a file, or the YAML itself",
    )
    .option('--config-file <file>', 'identities to watch for, from this file')
    .option('--state <file>', 'where to keep what was verified, to continue from there')
    .option('--log <url>', 'follow only this log of the trusted root (repeatable)', repeat)
    .option('--url <url>', "rekor-monitor's name for --log (repeatable)", repeat)
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
    .option('--user-agent <text>', 'added to the User-Agent of requests to the logs');
  addBool(
    cmd,
    'once',
    'one pass, then exit: 3 a log misbehaved, else 1 a log could not be checked or an alert not delivered, else 2 an identity matched, else 0 (--once=false: keep polling)',
  );
  cmd
    .option(
      '--interval <duration>',
      'time between passes when polling: seconds, or a duration such as 5m or 1h (default 300)',
    )
    .action(async (flags: MonitorFlags) => {
      const interval = flags.interval === undefined ? 300_000 : parseInterval(flags.interval);
      const { monitorFromFlags } = await import('../../client/monitor/setup.ts');
      const monitor = await monitorFromFlags(flags);
      // The signature is how a receiver tells the monitor's alerts from anyone's POSTs.
      if (flags.webhook?.length && !(flags.webhookSecret ?? process.env.SIGNET_WEBHOOK_SECRET))
        process.stderr.write(
          'warning: --webhook without --webhook-secret (or SIGNET_WEBHOOK_SECRET): alerts are sent unsigned, so a receiver cannot tell them from forged ones\n',
        );
      if (flags.once) {
        const r = await monitor.pass();
        process.exitCode = onceExitCode(r);
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
        const r = await monitor.pass();
        // A run given an endIndex ends once it is read, as rekor-monitor's does; --once's code.
        if (monitor.rangeRead) {
          process.exitCode = onceExitCode(r);
          break;
        }
        if (stop) break; // a signal during the pass
        // The wait ends at the interval or at a signal; a signal clears the timer, which would
        // otherwise keep the process alive until the interval is over (systemctl stop, ^C).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, interval);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    });
}
