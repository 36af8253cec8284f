/**
 * From `signet monitor` flags to a running Monitor: the logs come from a trusted root (a file,
 * or a Signet server's through TUF), never from the logs themselves; the config file, the
 * state file, witnesses, checkpoint sources to compare and webhooks are read and checked here,
 * each error naming its flag.
 */
import fs from 'node:fs';
import { invalid, describeSystemError } from '../../core/errors.ts';
import type { TransparencyLogInstance, TrustedRoot } from '../../bundle/trusted-root.ts';
import { send, type HttpOptions } from '../http/fetch.ts';
import { loadTrustedRoot, witnessPolicy, type VerifyFlags } from '../verify/setup.ts';
import { emptyConfig, parseMonitorConfig, type MonitorConfig } from './config.ts';
import { Monitor, type MonitorOptions } from './monitor.ts';
import { CtSource, RekorV1Source, TilesSource, type LogSource } from './sources.ts';
import type { Webhook } from './alerts.ts';

export interface MonitorFlags extends Pick<
  VerifyFlags,
  'trustedRoot' | 'server' | 'tufRoot' | 'witnessKey' | 'witnessThreshold'
> {
  config?: string;
  state?: string;
  log?: string[];
  compare?: string[];
  webhook?: string[];
  webhookSecret?: string;
  once?: boolean;
  interval?: string;
}

const trim = (u: string) => u.replace(/\/+$/, '');

/** A tlog's API: a tlog-tiles log serves `checkpoint`, a Rekor v1 log does not. */
async function tlogSource(log: TransparencyLogInstance, http: HttpOptions): Promise<LogSource> {
  const res = await send(
    {
      service: 'the log',
      method: 'GET',
      url: `${trim(log.baseUrl)}/checkpoint`,
      allow: [404, 405],
    },
    { ...http, retries: 0 },
  ).catch(() => undefined);
  return res?.status === 200 ? new TilesSource(log, http) : new RekorV1Source(log, http);
}

/** The logs to follow: every active log of the root, or those `--log` names. */
export async function monitorSources(
  root: TrustedRoot,
  only: string[] | undefined,
  http: HttpOptions = {},
): Promise<LogSource[]> {
  const active = (l: TransparencyLogInstance) => l.validFor.end === undefined;
  const wanted = only?.map(trim);
  const pick = (l: TransparencyLogInstance) =>
    wanted ? wanted.includes(trim(l.baseUrl)) : active(l);
  if (wanted)
    for (const w of wanted)
      if (![...root.tlogs, ...root.ctlogs].some((l) => trim(l.baseUrl) === w))
        throw invalid(
          '--log',
          `${w} is not a log in the trusted root (its key must come from there)`,
        );
  const out: LogSource[] = [];
  for (const l of root.tlogs.filter(pick)) out.push(await tlogSource(l, http));
  for (const l of root.ctlogs.filter(pick)) out.push(new CtSource(l, http));
  if (out.length === 0) throw invalid('--log', 'the trusted root names no log to follow');
  return out;
}

export function readMonitorConfig(file: string | undefined): MonitorConfig {
  if (file === undefined) return emptyConfig();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid('--config', describeSystemError(e, file));
  }
  return parseMonitorConfig(text, file);
}

export function parseWebhooks(urls: string[] | undefined, secret: string | undefined): Webhook[] {
  return (urls ?? []).map((u) => {
    if (!/^https?:\/\/\S+$/.test(u)) throw invalid('--webhook', `"${u}" is not an http(s) URL`);
    return { url: u, secret };
  });
}

export async function monitorFromFlags(
  flags: MonitorFlags,
  extra: Partial<MonitorOptions> = {},
): Promise<Monitor> {
  const config = readMonitorConfig(flags.config);
  const witnesses = await witnessPolicy(flags);
  const webhooks = parseWebhooks(
    flags.webhook,
    flags.webhookSecret ?? process.env.SIGNET_WEBHOOK_SECRET,
  );
  for (const c of flags.compare ?? [])
    if (!/^https?:\/\//.test(c) && !fs.existsSync(c))
      throw invalid('--compare', `${c} is neither a URL nor a file`);
  const root = await loadTrustedRoot(flags);
  const sources = await monitorSources(root, flags.log);
  return new Monitor({
    sources,
    config,
    stateFile: flags.state,
    compare: flags.compare ?? [],
    witnesses,
    webhooks,
    ...extra,
  });
}
