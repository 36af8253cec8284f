/**
 * /metrics under load (`npm run bench -- metrics`; issue 8 "Seeing what the stack does"): a
 * real `signet up` (bin/signet, SQLite), the load driver in another process (Rekor v1 and v2
 * appends, keyless certificates, RFC 3161 timestamps, refused tokens), and a scrape of
 * /metrics every second. Prints, per scrape, how the series moved: requests and latency
 * (p50/p99 from the histogram buckets) by route and status, each log's size, checkpoint age and
 * pending appends, certificates and timestamps issued, token failures by reason.
 * Knobs: METRICS_SECONDS (default 30), METRICS_LOOPS (driver loops per kind, default 1).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, NODE, sleep, startSignet } from './support/stack-process.ts';
import type { TargetRow } from './table.ts';

const SECONDS = Number(process.env['METRICS_SECONDS'] ?? 30);
const LOOPS = process.env['METRICS_LOOPS'] ?? '1';
const DRIVER = path.join(import.meta.dirname, 'support', 'load-driver.ts');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, the lines this run reads (no escapes in our label values). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const pick = (s: Sample[], name: string, want: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(want).every(([k, v]) => x.labels[k] === v));
const one = (s: Sample[], name: string, want: Record<string, string> = {}) =>
  pick(s, name, want).reduce((n, x) => n + x.value, 0);

/** A quantile from cumulative histogram buckets (linear inside the bucket, as PromQL does). */
function quantile(s: Sample[], q: number, want: Record<string, string>): number | undefined {
  const buckets = pick(s, 'signet_http_request_duration_seconds_bucket', want)
    .map((b) => ({ le: b.labels['le'] === '+Inf' ? Infinity : Number(b.labels['le']), n: b.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.n ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const b of buckets) {
    if (b.n >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevN)) / Math.max(1, b.n - prevN);
    }
    prevLe = b.le;
    prevN = b.n;
  }
  return prevLe;
}

const ROUTES: Array<[string, string, string]> = [
  ['POST', '/rekor/api/v1/log/entries', '201'],
  ['POST', '/rekor/api/v2/log/entries', '201'],
  ['POST', '/fulcio/api/v2/signingCert', '200'],
  ['POST', '/fulcio/api/v2/signingCert', '401'],
  ['POST', '/tsa/api/v1/timestamp', '200'],
  ['POST', '/oidc/token', '200'],
];

export async function run(): Promise<TargetRow[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-metrics-bench-'));
  const port = await freePort();
  const stack = startSignet({ port, dataDir, logFile: path.join(dataDir, 'stack.log') });
  const url = await stack.up;
  const scrape = async () => parseMetrics(await (await fetch(`${url}/metrics`)).text());
  const first = await scrape();
  const driver = spawn(NODE, ['--disable-warning=ExperimentalWarning', DRIVER], {
    env: {
      ...process.env,
      LOAD_URL: url,
      LOAD_MIX: 'v1,v2,cert,tsa,badtoken',
      LOAD_LOOPS: LOOPS,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const driverDone = new Promise<void>((r) => driver.on('exit', () => r()));
  const rows: string[] = [];
  let maxPending = 0;
  let maxAge = 0;
  let last = first;
  const t0 = performance.now();
  try {
    for (let i = 1; performance.now() - t0 < SECONDS * 1000; i++) {
      await sleep(1000);
      last = await scrape();
      maxPending = Math.max(
        maxPending,
        one(last, 'signet_log_pending_appends', { log: 'rekor-1' }),
      );
      maxAge = Math.max(maxAge, one(last, 'signet_log_checkpoint_age_seconds', { log: 'rekor-1' }));
      if (i % 5 === 0) rows.push(line(i, last));
    }
  } finally {
    driver.kill('SIGTERM');
    await driverDone;
    await stack.stop();
  }
  console.log(`before load: ${line(0, first)}`);
  for (const r of rows) console.log(r);
  console.log('requests by route and status over the run (count, p50, p99 from the buckets):');
  for (const [method, route, status] of ROUTES) {
    const want = { method, route, status };
    const n = one(last, 'signet_http_request_duration_seconds_count', want);
    const ms = (q: number) => ((quantile(last, q, want) ?? 0) * 1000).toFixed(1);
    console.log(`  ${method} ${route} ${status}: ${n}, p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms`);
  }
  const reasons = pick(last, 'signet_token_verification_failures_total')
    .map((s) => `${s.labels['reason']} ${s.value}`)
    .join(', ');
  console.log(
    `token failures by reason: ${reasons}; max pending appends seen (rekor-1) ${maxPending}, max checkpoint age seen ${maxAge.toFixed(2)} s; load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const moved =
    one(last, 'signet_log_entries', { log: 'rekor-1' }) >
      one(first, 'signet_log_entries', { log: 'rekor-1' }) &&
    one(last, 'signet_certificates_issued_total') > 0 &&
    one(last, 'signet_timestamps_issued_total') > 0 &&
    one(last, 'signet_token_verification_failures_total') > 0;
  return [
    {
      target: 'metrics move under load (log size, certificates, timestamps, token failures)',
      measured: `rekor-1 ${one(last, 'signet_log_entries', { log: 'rekor-1' })} entries, ${one(last, 'signet_certificates_issued_total')} certificates, ${one(last, 'signet_timestamps_issued_total')} timestamps, ${one(last, 'signet_token_verification_failures_total')} token failures`,
      ratio: moved ? 'all moved' : 'some did not move',
      met: moved,
    },
  ];
}

function line(t: number, s: Sample[]): string {
  const req = (m: string, r: string, st: string) =>
    one(s, 'signet_http_request_duration_seconds_count', { method: m, route: r, status: st });
  return (
    `t=${t}s requests v1 201 ${req('POST', '/rekor/api/v1/log/entries', '201')}, v2 201 ${req('POST', '/rekor/api/v2/log/entries', '201')}, ` +
    `signingCert 200/401 ${req('POST', '/fulcio/api/v2/signingCert', '200')}/${req('POST', '/fulcio/api/v2/signingCert', '401')}; ` +
    `entries rekor-1 ${one(s, 'signet_log_entries', { log: 'rekor-1' })} ctlog ${one(s, 'signet_log_entries', { log: 'ctlog' })}; ` +
    `checkpoint age rekor-1 ${one(s, 'signet_log_checkpoint_age_seconds', { log: 'rekor-1' }).toFixed(2)} s ctlog ${one(s, 'signet_log_checkpoint_age_seconds', { log: 'ctlog' }).toFixed(2)} s; ` +
    `pending rekor-1 ${one(s, 'signet_log_pending_appends', { log: 'rekor-1' })}; ` +
    `certificates ${one(s, 'signet_certificates_issued_total')}, timestamps ${one(s, 'signet_timestamps_issued_total')}, token failures ${one(s, 'signet_token_verification_failures_total')}`
  );
}
