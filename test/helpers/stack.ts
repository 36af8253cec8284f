import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type RunningStack } from '../../src/services/stack.ts';
import type { BundleCheck } from '../../src/services/explorer/check.ts';

/** A whole stack on a loopback port with a temporary data folder, quiet logs. */
export async function tempStack(
  opts: {
    databaseUrl?: string;
    dataDir?: string;
    /** Per-service config sections, as in `signet up --config`. */
    config?: Record<string, Record<string, unknown>>;
    /** The explorer's bundle check (`signet up` gives the CLI's verify-blob). */
    checkBundle?: BundleCheck;
  } = {},
): Promise<RunningStack & { dataDir: string }> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'signet-test-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: opts.databaseUrl,
    log: quiet,
    ...(opts.config ? { config: opts.config } : {}),
    ...(opts.checkBundle ? { checkBundle: opts.checkBundle } : {}),
  });
  return { ...stack, dataDir };
}

/**
 * An ID token from a stack's built-in provider through the test grant of the `sigstore` client.
 * `issuerPath` picks the provider's issuer (e.g. `/github`; default: the email issuer).
 */
export async function stackToken(
  url: string,
  subject = 'dev@signet.local',
  issuerPath = '',
): Promise<string> {
  const r = await fetch(`${url}/oidc${issuerPath}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'sigstore', subject }),
  });
  const body = (await r.json()) as { id_token?: string; error_description?: string };
  if (r.status !== 200 || !body.id_token)
    throw new Error(`token: ${r.status} ${body.error_description}`);
  return body.id_token;
}

/**
 * Approves a device sign-in (RFC 8628) at a stack's built-in provider as `identity`, as the
 * person would on the verification page: the client that showed `userCode` then gets its token.
 */
export async function approveDeviceCode(
  url: string,
  userCode: string,
  identity = 'dev@signet.local',
): Promise<void> {
  const r = await fetch(`${url}/oidc/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: userCode, identity }).toString(),
  });
  if (r.status !== 200) throw new Error(`device approval: HTTP ${r.status} ${await r.text()}`);
}

/**
 * Fails (throws, so the test file fails) unless the stack's /healthz lists every one of
 * `names`: a test that needs a service must not skip itself or quietly weaken when the
 * stack lacks it.
 */
export async function requireServices(url: string, names: string[]): Promise<void> {
  const res = await fetch(`${url}/healthz`);
  if (!res.ok) throw new Error(`${url}/healthz answered ${res.status}`);
  const { services } = (await res.json()) as { services: string[] };
  const missing = names.filter((n) => !services.includes(n));
  if (missing.length > 0) {
    throw new Error(`the stack lacks ${missing.join(', ')} (has: ${services.join(', ')})`);
  }
}
