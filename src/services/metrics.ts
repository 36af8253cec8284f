import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from './types.ts';

/** What the metrics read from a log at scrape time (never on the request path). */
export interface LogMetricsSource {
  checkpoint(): Promise<{ size: number }>;
  /** Appends queued or being sequenced in this process. */
  readonly pendingAppends: number;
  /** When this process last committed a new checkpoint (ms since the epoch), if ever. */
  readonly lastCheckpointAt: number | undefined;
}

/**
 * The stack's Prometheus metrics (`/metrics`, prom-client): requests by route and status with
 * latency, per log its size, checkpoint age and pending appends, certificates and timestamps
 * issued, identity-token failures by reason, and the process defaults (RSS, event loop lag).
 * Per request the cost is one histogram observation; the log figures are read when scraped.
 */
export class StackMetrics {
  readonly registry = new Registry();
  readonly #requests: Histogram<'method' | 'route' | 'status'>;
  readonly #certificates: Counter;
  readonly #timestamps: Counter;
  readonly #tokenFailures: Counter<'reason'>;
  readonly #logs = new Map<string, { source: LogMetricsSource; size: number; seenAt: number }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Histogram({
      name: 'signet_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status, with their latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.#certificates = new Counter({
      name: 'signet_certificates_issued_total',
      help: 'Signing certificates issued by the CA',
      registers: [this.registry],
    });
    this.#timestamps = new Counter({
      name: 'signet_timestamps_issued_total',
      help: 'RFC 3161 timestamps issued by the TSA',
      registers: [this.registry],
    });
    this.#tokenFailures = new Counter({
      name: 'signet_token_verification_failures_total',
      help: 'Identity tokens the CA refused, by reason (the error code)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    const logs = this.#logs;
    const read = async () => {
      const now = Date.now();
      const out: Array<{ name: string; size: number; age: number; pending: number }> = [];
      for (const [name, l] of logs) {
        let size = l.size;
        try {
          size = (await l.source.checkpoint()).size;
        } catch {
          // the store is down: /readyz says so; keep the last known figures
        }
        if (size !== l.size) {
          l.size = size;
          // When this process made the new checkpoint, it knows when; else (a replica on a
          // shared database) it first saw it now.
          const own = l.source.lastCheckpointAt;
          l.seenAt = own !== undefined && own > l.seenAt ? own : now;
        }
        const at = Math.max(l.seenAt, l.source.lastCheckpointAt ?? 0);
        out.push({ name, size, age: (now - at) / 1000, pending: l.source.pendingAppends });
      }
      return out;
    };
    let snapshot: Promise<Awaited<ReturnType<typeof read>>> | undefined;
    // One read of the logs per scrape, shared by the three gauges.
    const once = () =>
      (snapshot ??= read().finally(() => setImmediate(() => (snapshot = undefined))));
    new Gauge({
      name: 'signet_log_entries',
      help: 'Entries in each log (shard), from its latest checkpoint',
      labelNames: ['log'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const l of await once()) this.set({ log: l.name }, l.size);
      },
    });
    new Gauge({
      name: 'signet_log_checkpoint_age_seconds',
      help: 'Seconds since each log last published a new checkpoint (as this process saw it)',
      labelNames: ['log'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const l of await once()) this.set({ log: l.name }, l.age);
      },
    });
    new Gauge({
      name: 'signet_log_pending_appends',
      help: 'Appends waiting to be sequenced in this process, per log',
      labelNames: ['log'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const l of await once()) this.set({ log: l.name }, l.pending);
      },
    });
  }

  /** A log (Rekor shard, CT log) to report under `name`. */
  addLog(name: string, source: LogMetricsSource): void {
    this.#logs.set(name, { source, size: -1, seenAt: Date.now() });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.#requests.observe({ method, route, status: String(status) }, seconds);
  }

  certificateIssued(): void {
    this.#certificates.inc();
  }

  timestampIssued(): void {
    this.#timestamps.inc();
  }

  tokenRefused(reason: string): void {
    this.#tokenFailures.inc({ reason });
  }
}

/**
 * Per request: one histogram observation and, unless turned off, one access-log line (method,
 * route, status, latency, request id; never headers, tokens or bodies). `GET /metrics` serves
 * the registry.
 */
export function instrument(
  app: FastifyInstance,
  metrics: StackMetrics,
  accessLog: Logger | undefined,
): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? '(no route)';
    const seconds = reply.elapsedTime / 1000;
    metrics.request(req.method, route, reply.statusCode, seconds);
    accessLog?.info('request', {
      method: req.method,
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      requestId: req.id,
    });
    done();
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
