/**
 * The admission webhooks over HTTPS: `POST /validate` takes an AdmissionReview v1 and answers
 * one (Kubernetes appends `?timeout=10s`, the webhook's timeoutSeconds; the review is bounded
 * below it), `POST /mutate` answers with the JSON patch that pins tags to digests, `GET
 * /healthz` says it is up. Bodies are bounded; anything unreadable is
 * answered with a denial, and the server keeps running.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reviewUid, admissionReviewResponse } from './admission-review.ts';
import type { AdmissionController } from './admission.ts';
import { parseJsonText } from '../../core/json.ts';
const https = process.getBuiltinModule('node:https');

/** The API server's own limit on a request object is about 3 MiB; reviews carry two of them. */
export const MAX_REVIEW_BYTES = 8 * 1024 * 1024;

export interface AdmissionServerOptions {
  controller: AdmissionController;
  cert: string | Buffer;
  key: string | Buffer;
  port: number;
  host?: string;
  log?: (message: string) => void;
}

export interface RunningAdmissionServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `10s`, `1m30s`, `500ms` (Go durations, as the API server writes them) in ms. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    ms +=
      Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return ms;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The body, or 'too-large' past MAX_REVIEW_BYTES. Past the limit the rest is read and dropped,
 * so the client gets its 413 rather than a reset connection; a body that keeps coming past
 * eight times the limit is cut off.
 */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REVIEW_BYTES) {
        chunks.length = 0;
        resolve('too-large');
        if (size > 8 * MAX_REVIEW_BYTES) req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function deny(uid: string, code: number, message: string) {
  return admissionReviewResponse({
    uid,
    allowed: false,
    status: { code, message, reason: 'BadRequest' },
  });
}

async function handle(o: AdmissionServerOptions, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'https://webhook');
  if (req.method === 'GET' && url.pathname === '/healthz') {
    send(res, 200, { status: 'ok', policies: o.controller.policies.length });
    return;
  }
  if (url.pathname !== '/validate' && url.pathname !== '/mutate') {
    send(res, 404, { error: 'not found: the webhooks are at POST /validate and POST /mutate' });
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, { error: 'use POST with an AdmissionReview' });
    return;
  }
  const body = await readBody(req);
  if (body === 'too-large') {
    send(res, 413, deny('', 413, `the AdmissionReview is larger than ${MAX_REVIEW_BYTES} bytes`));
    return;
  }
  let review: unknown;
  try {
    review = parseJsonText(body, 'AdmissionReview');
  } catch (e) {
    // Answered as a review (status 200) so the API server shows the reason.
    send(
      res,
      200,
      deny(
        '',
        400,
        `malformed AdmissionReview: the body ${(e as Error).message.replace(/^AdmissionReview: /, '')}`,
      ),
    );
    return;
  }
  const t = url.searchParams.get('timeout');
  const timeout = t ? parseGoDuration(t) : undefined;
  // Leave room for the answer to travel back before the API server gives up.
  const budget =
    timeout !== undefined ? Math.max(100, timeout - Math.min(1000, timeout / 5)) : undefined;
  const answer =
    url.pathname === '/mutate'
      ? await o.controller.mutate(review, budget)
      : await o.controller.review(review, budget);
  const response = answer.response as { allowed?: boolean; status?: { message?: string } };
  if (!response.allowed) o.log?.(`denied ${reviewUid(review)}: ${response.status?.message ?? ''}`);
  send(res, 200, answer);
}

export async function startAdmissionServer(
  o: AdmissionServerOptions,
): Promise<RunningAdmissionServer> {
  const server = https.createServer({ cert: o.cert, key: o.key }, (req, res) => {
    handle(o, req, res).catch((e: unknown) => {
      o.log?.(`error: ${(e as Error).message}`);
      if (!res.headersSent)
        send(res, 500, deny('', 500, `signet admission: ${(e as Error).message}`));
      else res.destroy();
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1';
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
