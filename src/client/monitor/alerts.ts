import { send } from '../../services/http/outbound.ts';
const { createHash, createHmac } = process.getBuiltinModule('node:crypto');
/**
 * Monitor alerts: one JSON object per line on stdout, and to each webhook as an HTTP POST with
 * the JSON body and `X-Signet-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>` (the
 * GitHub webhook convention), retried with exponential back-off. Every alert has a stable `id`
 * (a hash of what it is about), so a receiver can also drop the one duplicate a crash in the
 * middle of a delivery could cause.
 */

export interface IdentityAlert {
  type: 'identity';
  id: string;
  log: string;
  /** The entry's index as the log numbers it (Rekor v1: counting its inactive shards). */
  logIndex: number;
  kind: string;
  identity: string | undefined;
  issuer: string | undefined;
  artifactDigest: string | undefined;
  /** SHA-256 of the signing certificate's or key's DER. */
  fingerprint: string;
  matches: Array<{ rule: string; field: string; pattern: string; value: string }>;
  entryUrl: string;
}

export type LogProblem =
  | 'bad-signature'
  | 'shrinking-tree'
  | 'fork'
  | 'inconsistent'
  | 'bad-tile'
  | 'entries-do-not-match'
  | 'missing-cosignatures';

export interface LogAlert {
  type: 'log';
  id: string;
  log: string;
  problem: LogProblem;
  message: string;
  /** The tree the monitor had verified before. */
  verified: { size: number; rootHash: string } | undefined;
  /** What the log (or the other source) showed. */
  seen: { size: number; rootHash: string } | undefined;
}

/**
 * An entry the log holds that could not be read as its kind says (rekor-monitor notifies these
 * too, as failed entries): a log should admit no such body, so it is an anomaly to look at,
 * never silently passed over. Entries of kinds Signet does not read are not alerts.
 */
export interface EntryAlert {
  type: 'entry';
  id: string;
  log: string;
  logIndex: number;
  /** What is wrong with it. */
  error: string;
  entryUrl: string;
}

export type Alert = IdentityAlert | LogAlert | EntryAlert;

export function alertId(...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

export interface Webhook {
  url: string;
  /** HMAC key; without it the signature header is left out. */
  secret: string | undefined;
}

export interface WebhookOptions {
  attempts?: number;
  /** First back-off; doubles per attempt. */
  backoffMs?: number;
  timeoutMs?: number;
}

export const SIGNATURE_HEADER = 'x-signet-signature-256';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POST one alert; resolves true once a 2xx came back, false after the last attempt failed. */
export async function postWebhook(
  hook: Webhook,
  alert: Alert,
  opts: WebhookOptions = {},
  onFailure: (message: string) => void = () => {},
): Promise<boolean> {
  const body = JSON.stringify(alert);
  const headers: Record<string, string> = {
    'user-agent': 'signet-monitor',
    'x-signet-alert-id': alert.id,
  };
  if (hook.secret !== undefined) headers[SIGNATURE_HEADER] = signBody(hook.secret, body);
  const attempts = opts.attempts ?? 5;
  let wait = opts.backoffMs ?? 500;
  for (let i = 1; i <= attempts; i++) {
    try {
      // The client's HTTP layer: a deadline, an answer read only up to its limit; its message
      // says what went wrong ("answered HTTP 500: ...", "nothing is listening"). No redirects:
      // the alert goes to the URL the operator configured, not where the receiver points it.
      await send(
        {
          service: 'the webhook',
          method: 'POST',
          url: hook.url,
          headers,
          body,
          contentType: 'application/json',
          redirect: 'error',
        },
        { timeoutMs: opts.timeoutMs ?? 10_000, retries: 0 },
      );
      return true;
    } catch (e) {
      onFailure(`${(e as Error).message} (attempt ${i} of ${attempts})`);
    }
    if (i < attempts) {
      await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
    }
  }
  return false;
}
