/**
 * cosign's TLS client flags, for a registry (--registry-cacert, --registry-client-cert,
 * --registry-client-key, --registry-server-name) and a timestamp authority (the same with
 * --timestamp-client-cacert, -cert, -key, --timestamp-server-name): files read and checked
 * here, so a wrong one is a line naming the flag, not an OpenSSL error at the first request.
 */
import { describeSystemError, invalid } from '../core/errors.ts';
import { decodePemAll } from '../core/encoding/pem.ts';
import type { TlsClientOptions } from '../services/http/outbound.ts';

/** The files and name as given; `undefined` for a flag left out. */
export interface TlsClientFiles {
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  servername: string | undefined;
}

/** A PEM file named by a flag: its text, every block labelled as `labels` allow. */
function pemFile(file: string, flag: string, labels: RegExp, what: string): string {
  let text: string;
  try {
    text = process.getBuiltinModule('node:fs').readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(flag, describeSystemError(e, file), e);
  }
  const blocks = decodePemAll(text, `${flag} ${file}`);
  if (!blocks.every((b) => labels.test(b.label)))
    throw invalid(`${flag} ${file}`, `holds no ${what} (PEM)`);
  const { X509Certificate } = process.getBuiltinModule('node:crypto');
  for (const [i, b] of blocks.entries())
    if (b.label === 'CERTIFICATE')
      try {
        new X509Certificate(b.der);
      } catch (e) {
        throw invalid(`${flag} ${file}`, `certificate ${i + 1} is not X.509 DER`, e);
      }
  return text;
}

/**
 * A certificate (chain) and its private key, PEM files named by flags, for a TLS client or
 * server: each file holds what its flag says, and the key is the certificate's.
 */
export function certificateAndKey(
  certFile: string,
  keyFile: string,
  flag: { cert: string; key: string },
): { cert: string; key: string } {
  const cert = pemFile(certFile, flag.cert, /^CERTIFICATE$/, 'certificate');
  const key = pemFile(keyFile, flag.key, /PRIVATE KEY$/, 'private key');
  const { createPrivateKey, createPublicKey, X509Certificate } =
    process.getBuiltinModule('node:crypto');
  let matches: boolean;
  try {
    const pub = new X509Certificate(cert).publicKey.export({ format: 'der', type: 'spki' });
    matches = createPublicKey(createPrivateKey(key))
      .export({ format: 'der', type: 'spki' })
      .equals(pub);
  } catch (e) {
    throw invalid(flag.key, `cannot be read with ${flag.cert}: ${(e as Error).message}`, e);
  }
  if (!matches) throw invalid(flag.key, `is not the key of ${flag.cert}`);
  return { cert, key };
}

/**
 * The TLS options the flags of `prefix` ("registry": --registry-cacert ..., "timestamp":
 * --timestamp-client-cacert ...) ask for, or undefined when none was given.
 */
export function tlsClientOptions(
  f: TlsClientFiles,
  prefix: 'registry' | 'timestamp',
): TlsClientOptions | undefined {
  const flag = {
    ca: prefix === 'registry' ? '--registry-cacert' : '--timestamp-client-cacert',
    cert: `--${prefix}-client-cert`,
    key: `--${prefix}-client-key`,
    servername: `--${prefix}-server-name`,
  };
  const tls: TlsClientOptions = {};
  if (f.ca !== undefined) tls.ca = pemFile(f.ca, flag.ca, /^CERTIFICATE$/, 'CA certificate');
  if ((f.cert === undefined) !== (f.key === undefined))
    throw invalid(
      f.cert === undefined ? flag.key : flag.cert,
      `goes with ${flag.cert} and ${flag.key} together: the certificate and its key`,
    );
  if (f.cert !== undefined && f.key !== undefined)
    Object.assign(tls, certificateAndKey(f.cert, f.key, flag));
  if (f.servername !== undefined) {
    if (!/^[A-Za-z0-9.-]+$/.test(f.servername))
      throw invalid(flag.servername, `"${f.servername}" is not a host name`);
    tls.servername = f.servername;
  }
  return Object.keys(tls).length > 0 ? tls : undefined;
}
