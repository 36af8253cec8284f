/**
 * A plain RFC 3161 timestamp authority on loopback: OpenSSL's own responder (`openssl ts -reply`)
 * behind a small HTTP server, as RFC 3161 §3.4 carries it: a DER TimeStampReq POSTed in, the
 * DER TimeStampResp out. It serves one path only (`/tsr`, as freetsa.org does) and answers
 * anything else 404; a body `openssl ts -reply` cannot read is a 400 with OpenSSL's text.
 * Nothing of Sigstore's API: no JSON requests, no /api/v1/timestamp.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OpensslTsa {
  /** The endpoint, `http://127.0.0.1:PORT/tsr`. */
  url: string;
  /** The TSA's certificate chain, PEM file: its certificate, then the root CA that issued it. */
  chainFile: string;
  /** The requests it got: path, content type, and whether OpenSSL read them. */
  requests: Array<{ path: string; contentType: string; read: boolean }>;
  close(): Promise<void>;
}

/**
 * Writes `tsa.cnf` and a fresh `serial` in `dir` for `openssl ts -reply`: the TSA signs with
 * `signer`.crt and `signer`.key (SHA-256, policy 1.2.3.4.1, ESSCertIDv2 with SHA-256), accepts
 * imprints made with `digests`, and adds `certs` (a PEM file) to the certificates of a token
 * whose request asks for them.
 */
export function writeTsaConfig(
  dir: string,
  signer: string,
  o: { digests?: string; certs?: string } = {},
): void {
  fs.writeFileSync(
    path.join(dir, 'tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa1',
      '[ tsa1 ]',
      `serial = ${path.join(dir, 'serial')}`,
      `signer_cert = ${path.join(dir, `${signer}.crt`)}`,
      `signer_key = ${path.join(dir, `${signer}.key`)}`,
      ...(o.certs ? [`certs = ${o.certs}`] : []),
      'signer_digest = sha256',
      'default_policy = 1.2.3.4.1',
      `digests = ${o.digests ?? 'sha256,sha384,sha512'}`,
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'serial'), '01\n');
}

/**
 * Starts the responder. `digests` are the imprint algorithms it accepts (OpenSSL's `digests`
 * setting, comma-separated): a request with another gets OpenSSL's rejection (badAlg).
 */
export async function startOpensslTsa(digests = 'sha256,sha384,sha512'): Promise<OpensslTsa> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-openssl-tsa-'));
  // Not execFileSync: the caller's HTTP servers share this event loop.
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir, encoding: 'utf8' });
  // A root CA and the TSA's certificate it issued (critical timeStamping EKU, not a CA).
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'root.key']);
  await openssl([
    ...['req', '-new', '-x509', '-key', 'root.key', '-subj', '/CN=openssl-tsa-root'],
    ...['-days', '2', '-out', 'root.crt'],
  ]);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'tsa.key']);
  await openssl(['req', '-new', '-key', 'tsa.key', '-subj', '/CN=openssl-tsa', '-out', 'tsa.csr']);
  fs.writeFileSync(
    path.join(dir, 'leaf.ext'),
    'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=critical,timeStamping\n',
  );
  await openssl([
    ...['x509', '-req', '-in', 'tsa.csr', '-CA', 'root.crt', '-CAkey', 'root.key'],
    ...['-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'tsa.crt'],
  ]);
  fs.writeFileSync(
    path.join(dir, 'chain.pem'),
    fs.readFileSync(path.join(dir, 'tsa.crt'), 'utf8') +
      fs.readFileSync(path.join(dir, 'root.crt'), 'utf8'),
  );
  writeTsaConfig(dir, 'tsa', { digests });
  const requests: OpensslTsa['requests'] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const seen = {
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        read: false,
      };
      requests.push(seen);
      if (req.method !== 'POST' || req.url !== '/tsr') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      const q = path.join(dir, `q${++n}.tsq`);
      const r = path.join(dir, `r${n}.tsr`);
      fs.writeFileSync(q, Buffer.concat(chunks));
      try {
        await openssl(['ts', '-reply', '-config', 'tsa.cnf', '-queryfile', q, '-out', r]);
      } catch (e) {
        // OpenSSL's reason, without its notes about settings left at their defaults.
        const lines = ((e as { stderr?: string }).stderr ?? '').split('\n');
        const why = lines.find((l) => /error:/.test(l) && !/NCONF_get_string/.test(l));
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end(`bad request: ${why ?? 'openssl ts -reply failed'}\n`);
        return;
      }
      seen.read = true;
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
      res.end(fs.readFileSync(r));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsr`,
    chainFile: path.join(dir, 'chain.pem'),
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
