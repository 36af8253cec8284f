/**
 * Certificates made by OpenSSL for tests of TLS clients: a self-signed server certificate, and
 * a CA with a client certificate it issued (mutual TLS).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/**
 * A self-signed certificate and key made by OpenSSL in `dir` (`prefix`.crt/.key) for the
 * subjectAltName `san` (`IP:127.0.0.1`, `DNS:registry.test`, or several, comma-separated).
 */
export function selfSigned(
  dir: string,
  san: string,
  prefix = 'tls',
): { cert: string; key: string } {
  const cert = path.join(dir, `${prefix}.crt`);
  const key = path.join(dir, `${prefix}.key`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${san.split(',')[0]!.replace(/^(IP|DNS):/, '')}`,
    '-addext',
    `subjectAltName=${san}`,
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

/** A CA, and a client certificate and key it issued, made by OpenSSL in `dir`. */
export function clientCertificate(dir: string): { ca: string; cert: string; key: string } {
  const ca = selfSigned(dir, 'DNS:client-ca.test', 'client-ca');
  const key = path.join(dir, 'client.key');
  const csr = path.join(dir, 'client.csr');
  const cert = path.join(dir, 'client.crt');
  openssl(
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-subj',
      '/CN=signet-test-client',
      '-keyout',
      key,
      '-out',
      csr,
    ]),
  );
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-days', '1'].concat([
      '-set_serial',
      '2',
      '-out',
      cert,
    ]),
  );
  return { ca: ca.cert, cert, key };
}
