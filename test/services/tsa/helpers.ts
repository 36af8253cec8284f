import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../../src/services/http/app.ts';
import { tsaService, type TsaService } from '../../../src/services/tsa/service.ts';
import type { TimestampAuthority } from '../../../src/core/rfc3161/index.ts';
import { createService, serviceContext } from '../context.ts';

/** The TSA service alone, mounted at /tsa on a real loopback server. */
export async function startTsa(
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tsa-')),
  config: Record<string, unknown> = {},
): Promise<{ url: string; dataDir: string; tsa: TsaService; close(): Promise<void> }> {
  const app = createApp();
  // The base URL is only used in trust()/signingConfig(); the real one is known after listen.
  const tsa = await createService(tsaService, serviceContext({ dataDir }), config);
  await app.register(async (scope) => tsa.register(scope), { prefix: tsa.prefix });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, dataDir, tsa, close: () => app.close() };
}

/** The TSA's trusted-root entries as core verification input. */
export async function authoritiesOf(tsa: TsaService): Promise<TimestampAuthority[]> {
  const t = await tsa.trust!();
  return (
    t.timestampAuthorities as Array<{
      certChain: { certificates: { rawBytes: string }[] };
      validFor: { start: string; end?: string };
    }>
  ).map((a) => {
    const r: TimestampAuthority = {
      certChain: a.certChain.certificates.map((c) => Buffer.from(c.rawBytes, 'base64')),
      validFor: { start: new Date(a.validFor.start) },
    };
    if (a.validFor.end) r.validFor.end = new Date(a.validFor.end);
    return r;
  });
}
