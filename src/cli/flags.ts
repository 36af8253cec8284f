import { invalid } from '../core/errors.ts';
import { Option } from './commander.ts';

export function parsePort(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw invalid(flag, `"${text}" is not a port number`);
  const n = Number(text);
  if (n > 65535) throw invalid(flag, `${n} is not a port number (0-65535)`);
  return n;
}

/** Help of the per-request `-t, --timeout` of the commands that talk to a registry or service. */
export const REQUEST_TIMEOUT_HELP =
  'deadline for each request (seconds, or a duration as cosign takes it: 30s, 3m0s)';

/** `--timeout` when it is not given: seconds, as the flag takes them. */
const DEFAULT_REQUEST_TIMEOUT = '30';

/**
 * cosign's `-t, --timeout` (a persistent flag there, so every command takes it): the deadline of
 * each request the command makes. A bad value is refused as the line is parsed, also by a
 * command that makes no request; the value stays the text given (requestTimeout reads it).
 */
export function timeoutOption(): Option {
  return new Option('-t, --timeout <duration>', REQUEST_TIMEOUT_HELP)
    .default(DEFAULT_REQUEST_TIMEOUT)
    .argParser((v: string) => {
      parseDuration(v, '--timeout');
      return v;
    });
}

/** The per-request deadline `--timeout` gives (its default when the command was not given it). */
export function requestTimeout(f: { timeout?: string | undefined }): { timeoutMs: number } {
  return { timeoutMs: parseDuration(f.timeout ?? DEFAULT_REQUEST_TIMEOUT, '--timeout') };
}

/**
 * `--timeout` as cosign takes it (a Go duration: `3m0s`, `90s`, `500ms`) or as Signet's other
 * commands do (a number of seconds), in milliseconds; must be positive.
 */
export function parseDuration(text: string, flag: string): number {
  let ms: number | undefined;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
    ms = 0;
    for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
      ms +=
        Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  if (ms === undefined || !(ms > 0))
    throw invalid(flag, `"${text}" is not a positive duration (seconds, or like 3m0s, 90s, 500ms)`);
  return ms;
}
