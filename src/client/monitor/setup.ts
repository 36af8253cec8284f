/**
 * From `signet monitor` flags to a running Monitor: the logs come from a trusted root (a file,
 * or a Signet server's through TUF), never from the logs themselves; the config file, the
 * state file, witnesses, checkpoint sources to compare and webhooks are read and checked here,
 * each error naming its flag.
 */
import { invalid, describeSystemError } from '../../core/errors.ts';
import type { TransparencyLogInstance, TrustedRoot } from '../../bundle/trusted-root.ts';
import { send, type HttpOptions } from '../../services/http/outbound.ts';
import { loadTrustedRoot, witnessPolicy, type VerifyFlags } from '../verify/setup.ts';
import { emptyConfig, parseMonitorConfig, type MonitorConfig } from './config.ts';
import { Monitor, type MonitorOptions, type MonitorTrust } from './monitor.ts';
import { hashEqual } from '../../core/merkle/hash.ts';
import { ctSource, RekorV1Source, TilesSource, type LogSource } from './sources.ts';
import type { Webhook } from './alerts.ts';
import { checkStateWritable, loadState, stateFollows } from './state.ts';
const fs = process.getBuiltinModule('node:fs');

export interface MonitorFlags extends Pick<
  VerifyFlags,
  'trustedRoot' | 'server' | 'tufRoot' | 'witnessKey' | 'witnessThreshold'
> {
  /** A file, or the YAML itself (rekor-monitor's `--config`). */
  config?: string;
  configFile?: string;
  state?: string;
  log?: string[];
  /** rekor-monitor's name for `--log`. */
  url?: string[];
  userAgent?: string;
  readFrom?: string[];
  compare?: string[];
  webhook?: string[];
  webhookSecret?: string;
  once?: boolean;
  interval?: string;
}

const trim = (u: string) => u.replace(/\/+$/, '');

/** A tlog's API: a tlog-tiles log serves `checkpoint`, a Rekor v1 log does not. */
async function tlogSource(
  log: TransparencyLogInstance,
  http: HttpOptions,
  readFrom: string,
): Promise<LogSource> {
  const res = await send(
    {
      service: 'the log',
      method: 'GET',
      url: `${readFrom}/checkpoint`,
      allow: [404, 405],
    },
    { ...http, retries: 0 },
  ).catch(() => undefined);
  return res?.status === 200
    ? new TilesSource(log, http, readFrom)
    : new RekorV1Source(log, http, readFrom);
}

const under = (from: string, url: string) => url === from || url.startsWith(`${from}/`);
const URL_RE = /^https?:\/\/[^\s=]+$/;

/**
 * `--read-from FROM=TO` (repeatable): a log whose trusted-root URL is FROM, or starts with
 * FROM followed by `/`, is read from TO plus the rest of its URL. The trusted root names a log by
 * its origin, which stays when a stack moves (another port, another host); this says where it
 * is served now. `--read-from TO` alone: the one log followed (with `--log`, or a root of one).
 * The log's key and name still come from the trusted root; only the address changes.
 */
export function readLocations(
  values: string[] | undefined,
): (baseUrl: string, followed: number) => string {
  const rules: Array<{ from: string | undefined; to: string }> = (values ?? []).map((v) => {
    const eq = v.indexOf('=');
    const [from, to] = eq === -1 ? [undefined, v] : [trim(v.slice(0, eq)), trim(v.slice(eq + 1))];
    if ((from !== undefined && !URL_RE.test(from)) || !URL_RE.test(to))
      throw invalid('--read-from', `"${v}" is not URL or FROM-URL=TO-URL (http or https)`);
    return { from, to };
  });
  if (rules.some((r) => r.from === undefined) && rules.length > 1)
    throw invalid('--read-from', 'a bare URL is for a single log: use FROM=TO for several');
  return (baseUrl, followed) => {
    const url = trim(baseUrl);
    for (const r of rules) {
      if (r.from === undefined) {
        if (followed !== 1)
          throw invalid(
            '--read-from',
            `a bare URL needs exactly one log to follow (${followed} are): pick one with --log, or use FROM=TO`,
          );
        return r.to;
      }
      if (under(r.from, url)) return r.to + url.slice(r.from.length);
    }
    return url;
  };
}

/**
 * The logs to follow: those `--log` names, or every active log of the root and every log the
 * state has followed before. A log frozen by a rotation (its `validFor` has an end) may hold
 * entries made after the last pass and before the rotation; a monitor that followed it reads it
 * to its final size, and keeps checking that it never grows. A log it never followed is not
 * read (the public-good root lists logs long shut down): name it with `--log` to read it.
 */
export async function monitorSources(
  root: TrustedRoot,
  only: string[] | undefined,
  http: HttpOptions = {},
  readFrom: string[] | undefined = undefined,
  followed: (log: TransparencyLogInstance) => boolean = () => false,
  /** Sources made before (a polling run reading the root again): a log still there keeps its own. */
  before: readonly LogSource[] = [],
): Promise<LogSource[]> {
  const where = readLocations(readFrom);
  const active = (l: TransparencyLogInstance) => l.validFor.end === undefined;
  const wanted = only?.map(trim);
  const pick = (l: TransparencyLogInstance) =>
    wanted ? wanted.includes(trim(l.baseUrl)) : active(l) || followed(l);
  if (wanted)
    for (const w of wanted)
      if (![...root.tlogs, ...root.ctlogs].some((l) => trim(l.baseUrl) === w))
        throw invalid(
          '--log',
          `${w} is not a log in the trusted root (its key must come from there)`,
        );
  const tlogs = root.tlogs.filter(pick);
  const ctlogs = root.ctlogs.filter(pick);
  const n = tlogs.length + ctlogs.length;
  if (n === 0) throw invalid('--log', 'the trusted root names no log to follow');
  const kept = (l: TransparencyLogInstance, url: string) =>
    before.find(
      (s) => s.url === url && hashEqual(s.log.logId, l.logId) && s.log.baseUrl === l.baseUrl,
    );
  const out: LogSource[] = [];
  for (const l of tlogs) {
    const url = where(l.baseUrl, n);
    out.push(kept(l, url) ?? (await tlogSource(l, http, url)));
  }
  for (const l of ctlogs) {
    const url = where(l.baseUrl, n);
    out.push(kept(l, url) ?? (await ctSource(l, http, url)));
  }
  for (const r of readFrom ?? []) {
    const eq = r.indexOf('=');
    if (eq !== -1 && !out.some((s) => under(trim(r.slice(0, eq)), s.url)))
      throw invalid('--read-from', `"${r}": no log followed is at ${r.slice(0, eq)}`);
  }
  return out;
}

export function readMonitorConfig(file: string | undefined, flag = '--config'): MonitorConfig {
  if (file === undefined) return emptyConfig();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(flag, describeSystemError(e, file));
  }
  return parseMonitorConfig(text, file);
}

/**
 * `--config-file FILE`, or `--config`: rekor-monitor's takes the YAML itself, Signet's a file
 * too. It is YAML when it is blank (rekor-monitor's "no config"), has a line break or a `{`, or
 * has `: ` and no file has that name.
 */
export function monitorConfigFromFlags(
  flags: Pick<MonitorFlags, 'config' | 'configFile'>,
): MonitorConfig {
  const { config, configFile } = flags;
  if (config !== undefined && configFile !== undefined)
    throw invalid('--config', 'give --config or --config-file, not both');
  if (configFile !== undefined) return readMonitorConfig(configFile, '--config-file');
  if (config === undefined) return emptyConfig();
  if (
    config.trim() === '' ||
    /[\n{]/.test(config) ||
    (/:\s/.test(config) && !fs.existsSync(config))
  )
    return parseMonitorConfig(config, '--config');
  return readMonitorConfig(config);
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
  const config = monitorConfigFromFlags(flags);
  const witnesses = await witnessPolicy(flags);
  const webhooks = parseWebhooks(
    flags.webhook,
    flags.webhookSecret ?? process.env.SIGNET_WEBHOOK_SECRET,
  );
  for (const c of flags.compare ?? [])
    if (!/^https?:\/\//.test(c) && !fs.existsSync(c))
      throw invalid('--compare', `${c} is neither a URL nor a file`);
  const root = await loadTrustedRoot(flags);
  const only = flags.log || flags.url ? [...(flags.log ?? []), ...(flags.url ?? [])] : undefined;
  const http =
    flags.userAgent !== undefined
      ? { headers: { 'user-agent': `signet-monitor ${flags.userAgent}` } }
      : {};
  checkStateWritable(flags.state);
  const state = loadState(flags.state);
  const followed = (l: TransparencyLogInstance) => stateFollows(state, l.logId, trim(l.baseUrl));
  let sources = await monitorSources(root, only, http, flags.readFrom, followed);
  // A polling run reads the root again before each pass: a rotation opens a new shard (and may
  // add a CA) while it runs, and the entries there must not go unseen until a restart.
  const refresh = async (): Promise<MonitorTrust> => {
    const now = await loadTrustedRoot(flags);
    sources = await monitorSources(now, only, http, flags.readFrom, followed, sources);
    return { sources, authorities: now.certificateAuthorities };
  };
  return new Monitor({
    sources,
    config,
    authorities: root.certificateAuthorities,
    knownLogs: [...root.tlogs, ...root.ctlogs].map((l) => l.logId),
    refresh,
    stateFile: flags.state,
    state,
    compare: flags.compare ?? [],
    witnesses,
    webhooks,
    ...extra,
  });
}
