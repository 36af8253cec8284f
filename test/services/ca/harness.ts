import { createSign, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { bindServer, createApp } from '../../../src/services/http/app.ts';
import { oidcService, type OidcServiceModule } from '../../../src/services/oidc/service.ts';
import type { Flavor } from '../../../src/services/oidc/flavors.ts';
import type { StackContext, StackServices } from '../../../src/services/types.ts';
import { ctlogService } from '../../../src/services/ctlog/service.ts';
import { caService, type CaServiceModule } from '../../../src/services/ca/service.ts';
import { createService, serviceContext } from '../context.ts';
import { compressed } from '../../helpers/ec-forms.ts';

export interface Harness {
  url: string;
  dataDir: string;
  services: Partial<StackServices>;
  ca: CaServiceModule;
  oidc: OidcServiceModule;
  /** A token from the built-in provider for one of its default identities. */
  token(
    flavor?: Flavor,
    name?: string,
    overrides?: Parameters<OidcServiceModule['provider']['mint']>[3],
  ): Promise<string>;
  post(
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * The built-in identity provider, optionally a CT log, and the CA, on one loopback server, as
 * `signet up` mounts them (a stack of just these services).
 */
export async function startCa(
  opts: {
    ca?: Record<string, unknown>;
    /** With a CT log between the identity provider and the CA, configured so. */
    ctlog?: Record<string, unknown>;
    dataDir?: string;
  } = {},
): Promise<Harness> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ca-'));
  const { server, url } = await bindServer(0, '127.0.0.1');
  const app = createApp({}, () => server as http.Server);
  const services: Partial<StackServices> = {};
  const ctx: StackContext = serviceContext({ dataDir, baseUrl: url, services });
  const oidc = (services.oidc = await createService(oidcService, ctx));
  if (opts.ctlog) services.ctlog = await createService(ctlogService, ctx, opts.ctlog);
  const ca = (services.ca = await createService(caService, ctx, opts.ca));
  for (const mod of Object.values(services))
    await app.register(async (scope) => mod.register(scope), { prefix: mod.prefix });
  await app.ready();
  return {
    url,
    dataDir,
    services,
    ca,
    oidc,
    async token(flavor = 'email', name, overrides) {
      const p = oidc.provider;
      const identity = p.findIdentity(flavor, name ?? p.identities(flavor)[0]!.name);
      return p.mint(p.issuer(flavor), identity, 'sigstore', overrides);
    },
    async post(body, headers = {}) {
      const res = await fetch(`${url}/fulcio/api/v2/signingCert`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    async close() {
      await app.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const s of Object.values(services).reverse()) await s.close();
    },
  };
}

export function pemOf(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }) as string;
}

/** Fulcio's default scheme for a key: ECDSA with the curve's hash, RSA PKCS#1 v1.5 SHA-256, Ed25519. */
export function proofBy(key: KeyObject, challenge: string): string {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return sign(null, Buffer.from(challenge), key).toString('base64');
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const hash = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  return createSign(hash).update(challenge).sign(key).toString('base64');
}

export function keyRequest(pub: KeyObject, proof: string, token?: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: pemOf(pub) },
      proofOfPossession: proof,
    },
  };
  if (token !== undefined) body['credentials'] = { oidcIdentityToken: token };
  return body;
}

/** A PKCS#10 CSR built with @peculiar/asn1-csr and signed by node:crypto (ECDSA P-256 SHA-256). */
export function makeCsr(opts: { tamper?: boolean; compressed?: boolean } = {}): {
  pem: string;
  publicKey: KeyObject;
} {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = new CertificationRequestInfo({
    version: 0,
    subject: new Name(),
    subjectPKInfo: AsnConvert.parse(
      opts.compressed
        ? compressed(kp.publicKey)
        : kp.publicKey.export({ format: 'der', type: 'spki' }),
      SubjectPublicKeyInfo,
    ),
  });
  const infoDer = Buffer.from(AsnConvert.serialize(info));
  const sig = createSign('sha256').update(infoDer).sign(kp.privateKey);
  if (opts.tamper) sig[sig.length - 1] ^= 1;
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }),
    signature: new Uint8Array(sig).buffer,
  });
  const der = Buffer.from(AsnConvert.serialize(csr));
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return {
    pem: `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`,
    publicKey: kp.publicKey,
  };
}
