import type { Fetcher } from 'tuf-js';
// tuf-js tells "no newer root" (TUF 1.0 §5.3.3: 403 or 404 on N+1.root.json) by this class.
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { SignetError } from '../../core/errors.ts';
import { send } from '../../services/http/outbound.ts';
const fs = process.getBuiltinModule('node:fs');
const os = process.getBuiltinModule('node:os');
const path = process.getBuiltinModule('node:path');

/**
 * tuf-js's downloads through the client's one HTTP layer (client/http/fetch.ts) instead of
 * tuf-js's own fetcher, which takes global fetch (its first use loads undici, ~30 ms of every
 * verifier run that refreshes its trust) and passes even metadata through a temporary file.
 * Each file is read in memory up to the length TUF allows for it; an HTTP error answer becomes
 * tuf-js's DownloadHTTPError, which its root update reads as "no newer root".
 */
export function tufFetcher(timeoutMs: number): Fetcher {
  const downloadBytes = async (url: string, maxLength: number): Promise<Buffer> => {
    const res = await send(
      { service: 'the TUF repository', method: 'GET', url, maxBytes: maxLength },
      { timeoutMs, retries: 0 },
    ).catch((e: unknown) => {
      if (e instanceof SignetError && e.code === 'SERVICE_ERROR') {
        const status = e.details?.status;
        if (typeof status === 'number') throw new DownloadHTTPError(e.message, status);
      }
      throw e;
    });
    return Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength);
  };
  return {
    downloadBytes,
    // A target: tuf-js's handler checks the file's hashes and copies it into the cache.
    async downloadFile<T>(
      url: string,
      maxLength: number,
      handler: (file: string) => Promise<T>,
    ): Promise<T> {
      const bytes = await downloadBytes(url, maxLength);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-'));
      try {
        const file = path.join(dir, 'download');
        fs.writeFileSync(file, bytes, { mode: 0o600 });
        return await handler(file);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
