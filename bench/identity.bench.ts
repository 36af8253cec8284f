import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { bindServer, createApp } from '../src/services/http/app.ts';
import { createOidcService } from '../src/services/oidc/service.ts';
import { parseProviderConfig } from '../src/services/oidc/config.ts';
import { defaultCaIssuerConfig } from '../src/services/oidc/ca-issuers.ts';
import { createIdentityVerifier } from '../src/services/ca/identity/verifier.ts';

/**
 * Identity: ID tokens minted per second by the built-in provider (HTTP test grant, loopback)
 * and verified per second by the CA's verifier (JWKS cached), email and GitHub-shaped tokens.
 */
export async function run(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-idp-'));
  const { server, url } = await bindServer(0, '127.0.0.1');
  const app = createApp({}, () => server as http.Server);
  const quiet = { info() {}, warn() {}, error() {} };
  const mod = await createOidcService(
    { dataDir, baseUrl: url, databaseUrl: undefined, log: quiet, services: {} },
    parseProviderConfig({}),
  );
  await app.register(async (s) => mod.register(s), { prefix: mod.prefix });
  await app.ready();
  try {
    const mintOne = async (flavor: string, subject: string) => {
      const r = await fetch(`${url}/oidc${flavor}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'sigstore',
          subject,
        }),
      });
      return ((await r.json()) as { id_token: string }).id_token;
    };
    const n = 400;
    let t0 = performance.now();
    const tokens: string[] = [];
    for (let i = 0; i < n; i += 8) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, (_, j) =>
          (i + j) % 2 ? mintOne('', 'dev@signet.local') : mintOne('/github', 'signet-dev/demo'),
        ),
      );
      tokens.push(...batch);
    }
    const mintSecs = (performance.now() - t0) / 1000;
    console.log(`tokens minted over HTTP (8 in flight): ${Math.round(n / mintSecs)}/s`);
    const verifier = createIdentityVerifier(defaultCaIssuerConfig(url));
    await verifier.verify(tokens[0]!);
    await verifier.verify(tokens[1]!);
    const rounds = 5;
    t0 = performance.now();
    for (let r = 0; r < rounds; r++) for (const t of tokens) await verifier.verify(t);
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `tokens verified (ES256, JWKS cached, email+GitHub templates): ${Math.round((rounds * n) / secs)}/s`,
    );
  } finally {
    await app.close();
    server.close();
    server.closeAllConnections();
  }
}
