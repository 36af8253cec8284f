import assert from 'node:assert/strict';
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { pae } from '../../../src/core/dsse/index.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import {
  buildCaCertificate,
  buildPlainCertificate,
  leafTbsSpec,
} from '../../../src/core/x509/fulcio-profile.ts';

/** Request bodies for Rekor v1/v2 made with real keys (tests of the service and the bench). */

export const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');

export interface TestSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
  pem: string;
  spki: Uint8Array;
}

export function ecSigner(curve: 'P-256' | 'P-384' = 'P-256'): TestSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return signerOf(privateKey, publicKey);
}

export function signerOf(privateKey: KeyObject, publicKey: KeyObject): TestSigner {
  return {
    privateKey,
    publicKey,
    pem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
    spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
  };
}

/** A Fulcio-profile certificate for the signer, issued by a throw-away root; a URI SAN if `identity` has `://`. */
export function certificateFor(
  s: TestSigner,
  identity = 'signer@signet.test',
  issuer = 'https://issuer.signet.test',
): { der: Uint8Array; pem: string } {
  const root = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const rootDer = buildCaCertificate({
    organization: 'signet.test',
    commonName: 'test root',
    publicKeySpki: new Uint8Array(root.publicKey.export({ format: 'der', type: 'spki' })),
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 3600_000),
    selfKey: root.privateKey,
  });
  const ca = { certificate: parseCertificate(rootDer), key: root.privateKey };
  const der = buildPlainCertificate(
    ca,
    leafTbsSpec(ca, {
      spki: s.spki,
      san: { type: identity.includes('://') ? 'uri' : 'email', value: identity },
      extensions: { 1: issuer, 8: issuer },
    }),
  );
  return { der, pem: encodePem('CERTIFICATE', der) };
}

export function hashedRekordV1(
  s: TestSigner,
  artifact: Uint8Array,
  opts: { pem?: string; signature?: Uint8Array } = {},
) {
  const digest = createHash('sha256').update(artifact).digest();
  const signature = opts.signature ?? sign('sha256', artifact, s.privateKey);
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: {
        content: b64(signature),
        publicKey: { content: b64(opts.pem ?? s.pem) },
      },
    },
  };
}

export function hashedRekordV2(
  s: TestSigner,
  artifact: Uint8Array,
  opts: { certDer?: Uint8Array; signature?: Uint8Array; keyDetails?: string } = {},
) {
  const digest = createHash('sha256').update(artifact).digest();
  const signature = opts.signature ?? sign('sha256', artifact, s.privateKey);
  return {
    hashedRekordRequestV002: {
      digest: b64(digest),
      signature: {
        content: b64(signature),
        verifier: {
          ...(opts.certDer
            ? { x509Certificate: { rawBytes: b64(opts.certDer) } }
            : { publicKey: { rawBytes: b64(s.spki) } }),
          keyDetails: opts.keyDetails ?? 'PKIX_ECDSA_P256_SHA_256',
        },
      },
    },
  };
}

export function dsseEnvelope(s: TestSigner, payload: Uint8Array, payloadType: string) {
  const sig = sign('sha256', pae(payloadType, payload), s.privateKey);
  return { payload: b64(payload), payloadType, signatures: [{ sig: b64(sig), keyid: '' }] };
}

export function dsseV1(
  s: TestSigner,
  payload: Uint8Array,
  payloadType = 'application/vnd.in-toto+json',
) {
  const env = dsseEnvelope(s, payload, payloadType);
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: { proposedContent: { envelope: JSON.stringify(env), verifiers: [b64(s.pem)] } },
  };
}

export function intotoV2(
  s: TestSigner,
  payload: Uint8Array,
  payloadType = 'application/vnd.in-toto+json',
) {
  const env = dsseEnvelope(s, payload, payloadType);
  const envText = JSON.stringify(env);
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payload: b64(env.payload),
          payloadType,
          signatures: [{ sig: b64(env.signatures[0]!.sig), publicKey: b64(s.pem) }],
        },
        hash: { algorithm: 'sha256', value: createHash('sha256').update(envText).digest('hex') },
      },
    },
  };
}

/**
 * An intoto 0.0.2 entry of `payload`, signed with a key certified for `identity`, logged
 * through a stack's Rekor v1 API; its UUID.
 */
export async function logIntotoAs(
  stackUrl: string,
  identity: string,
  payload: Uint8Array,
  payloadType?: string,
): Promise<string> {
  const s = ecSigner();
  const body = intotoV2(s, payload, payloadType);
  body.spec.content.envelope.signatures[0]!.publicKey = b64(certificateFor(s, identity).pem);
  const r = await fetch(`${stackUrl}/rekor/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  // The v1 answer is keyed by entry ID (tree ID + UUID): the UUID is its last 64 digits.
  return Object.keys(JSON.parse(text) as object)[0]!.slice(-64);
}

export function dsseV2(
  s: TestSigner,
  payload: Uint8Array,
  payloadType = 'application/vnd.in-toto+json',
) {
  const env = dsseEnvelope(s, payload, payloadType);
  return {
    dsseRequestV002: {
      envelope: {
        payload: env.payload,
        payloadType,
        signatures: [{ sig: env.signatures[0]!.sig }],
      },
      verifiers: [{ publicKey: { rawBytes: b64(s.spki) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }],
    },
  };
}

export function statement(subjectDigest: string): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'a.txt', digest: { sha256: subjectDigest } }],
      predicateType: 'https://example.com/p',
      predicate: {},
    }),
  );
}

export function publicKeyOf(k: KeyObject): KeyObject {
  return k.type === 'public' ? k : createPublicKey(k);
}
