import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { bindServer, createApp } from '../../../src/services/http/app.ts';
import { oidcService, type OidcServiceModule } from '../../../src/services/oidc/service.ts';
import type { TokenResponse } from '../../../src/services/oidc/provider.ts';
import { createService, serviceContext } from '../context.ts';

/** The built-in identity provider alone, on a loopback port (real HTTP), with a temp data dir. */
export interface ProviderHarness {
  url: string;
  root: string;
  dataDir: string;
  mod: OidcServiceModule;
  token(flavor: string, subject: string, extra?: Record<string, string>): Promise<string>;
  post(pathname: string, form: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startProvider(
  config: Record<string, unknown> = {},
): Promise<ProviderHarness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-oidc-'));
  const { server, url } = await bindServer(0, '127.0.0.1');
  const app = createApp({}, () => server as http.Server);
  const mod = await createService(oidcService, serviceContext({ dataDir, baseUrl: url }), config);
  await app.register(async (s) => mod.register(s), { prefix: mod.prefix });
  await app.ready();
  const post = (pathname: string, form: Record<string, string>) =>
    fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
  return {
    url,
    root: `${url}/oidc`,
    dataDir,
    mod,
    post,
    async token(flavor, subject, extra = {}) {
      const p = flavor === 'email' ? '' : `/${flavor}`;
      const r = await post(`/oidc${p}/token`, {
        grant_type: 'client_credentials',
        client_id: 'sigstore',
        subject,
        ...extra,
      });
      const body = (await r.json()) as TokenResponse & { error_description?: string };
      if (r.status !== 200) throw new Error(`token: ${r.status} ${body.error_description}`);
      return body.id_token;
    },
    async close() {
      await app.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
