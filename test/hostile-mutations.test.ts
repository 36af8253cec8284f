// Seeded mutations of real inputs through every parser that reads untrusted bytes: each
// mutated input is either accepted or refused with a SignetError whose message is one line of
// characters that show as themselves. A TypeError, a RangeError or a raw library error is a
// parser that trusted its input; an unescaped control character in a message is input that
// reaches the user's terminal. (The seeds are fixed, so a failure reproduces; the RFC 3161 ESS
// crash this kind of run found first is pinned in test/core/rfc3161/conformance.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import fs from 'node:fs';
import path from 'node:path';
import { SignetError } from '../src/core/errors.ts';
import { printable } from '../src/core/encoding/printable.ts';
import { parseBundleJSON, parseTrustedRootJSON } from '../src/bundle/index.ts';
import { verifyBundle } from '../src/client/verify/index.ts';
import { parseCertificate, extensionOf } from '../src/core/x509/certificate.ts';
import { parseTimestamp, timestampToken } from '../src/core/rfc3161/token.ts';
import { parseTimestampRequest, encodeTimestampRequest } from '../src/core/rfc3161/request.ts';
import { parseSctList } from '../src/core/ct/sct.ts';
import { parseSignedData, signingAlgorithm } from '../src/core/cms/signed-data.ts';
import {
  armorGitSignature,
  assembleGitSignature,
  gitSignedAttributes,
  parseGitSignature,
} from '../src/core/git/signature.ts';
import { parseProposedEntryV1 } from '../src/core/rekor/v1.ts';
import { parseCreateEntryRequestV2 } from '../src/core/rekor/v2.ts';
import { hashedrekordV001, dsseV001 } from '../src/client/http/rekor-v1.ts';
import { hashedrekordRequestV002 } from '../src/client/http/rekor-v2.ts';
import { parseNote } from '../src/core/note/note.ts';
import { parseAddCheckpoint } from '../src/core/note/add-checkpoint.ts';
import { parseAdmissionReview } from '../src/client/policy/admission-review.ts';
import { parseManifest } from '../src/core/oci/manifest.ts';
import { parseSimpleSigning } from '../src/core/oci/simple-signing.ts';
import { parseEnvelope } from '../src/core/dsse/index.ts';
import { parseStatement } from '../src/core/intoto/index.ts';
import { parseSigningCertRequest } from '../src/services/ca/request.ts';
import { parseYamlDocuments } from '../src/core/yaml.ts';

const C = 'test/fixtures/conformance';
const ROUNDS = 400;

/**
 * One P-256 key and RFC 6979 signatures without added randomness: the inputs mutated are the
 * same bytes on every run (node:crypto's ECDSA nonces are random, and a DER signature of 70 to 72
 * bytes moved every mutation's position), so a failure replays.
 */
const FIXED_SECRET = new Uint8Array(32).fill(7);
const fixedPoint = p256.getPublicKey(FIXED_SECRET, false);
const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const privateKey = createPrivateKey({
  format: 'jwk',
  key: {
    kty: 'EC',
    crv: 'P-256',
    d: b64url(FIXED_SECRET),
    x: b64url(fixedPoint.subarray(1, 33)),
    y: b64url(fixedPoint.subarray(33)),
  },
});
const publicKey = createPublicKey(privateKey);
/** ECDSA P-256 with SHA-256, DER, deterministic. */
const sign = (data: Uint8Array): Buffer =>
  Buffer.from(p256.sign(data, FIXED_SECRET, { extraEntropy: false, format: 'der' }));

/** A small seeded generator (LCG): the same mutations on every run. */
function generator(seed: number) {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}
type Gen = ReturnType<typeof generator>;

/** One byte-level change: a bit, a length byte, a cut, an insertion, a deletion. */
function mutateBytes(g: Gen, b: Uint8Array): Buffer {
  const m = Buffer.from(b);
  if (m.length === 0) return g.bytes(3);
  const i = g.int(m.length);
  switch (g.int(7)) {
    case 0:
      m[i]! ^= 1 << g.int(8);
      return m;
    case 1:
      m[i] = 0x80 | g.int(5); // a long-form DER length
      return m;
    case 2:
      return m.subarray(0, i);
    case 3:
      return Buffer.concat([m.subarray(0, i), g.bytes(1 + g.int(4)), m.subarray(i)]);
    case 4:
      return Buffer.concat([m.subarray(0, i), m.subarray(i + 1)]);
    case 5:
      m[i] = 0;
      return m;
    default:
      m[i] = g.int(256);
      return m;
  }
}

const BASE64 = /^[A-Za-z0-9+/]{8,}={0,2}$/;

function mutateString(g: Gen, s: string): unknown {
  switch (g.int(10)) {
    case 0:
      return '';
    case 1:
      return `${s}\u001b[2K\r\n\u202e`;
    case 2:
      return s.slice(0, s.length >> 1);
    case 3:
      return s + s;
    case 4:
      return g.pick([-1, 1e300, null, true, [], {}]);
    case 5:
      return '9'.repeat(30);
    case 6:
      // inside base64: the bytes changed, or a JSON document inside changed
      if (BASE64.test(s)) {
        const inner = Buffer.from(s, 'base64');
        try {
          const json: unknown = JSON.parse(inner.toString('utf8'));
          return Buffer.from(JSON.stringify(mutateJson(g, json))).toString('base64');
        } catch {
          return mutateBytes(g, inner).toString('base64');
        }
      }
      return s.toUpperCase();
    case 7:
      return mutateBytes(g, Buffer.from(s)).toString('latin1');
    case 8: {
      const lines = s.split('\n');
      lines.splice(g.int(lines.length), g.int(2), ...(g.next() < 0.5 ? [lines[0]!] : []));
      return lines.join('\n');
    }
    default:
      return `${s}%00`;
  }
}

/** One change at a random place of a JSON value (which it may replace). */
function mutateJson(g: Gen, root: unknown): unknown {
  const places: Array<Array<string | number>> = [];
  const walk = (v: unknown, at: Array<string | number>): void => {
    places.push(at);
    if (v !== null && typeof v === 'object')
      for (const [k, c] of Object.entries(v)) walk(c, [...at, Array.isArray(v) ? Number(k) : k]);
  };
  walk(root, []);
  const at = g.pick(places);
  const parentOf = (): Record<string | number, unknown> =>
    at
      .slice(0, -1)
      .reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], root) as Record<
      string | number,
      unknown
    >;
  const v = at.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], root);
  const replace = (x: unknown): unknown => {
    if (at.length === 0) return x;
    parentOf()[at[at.length - 1]!] = x;
    return root;
  };
  if (typeof v === 'string') return replace(mutateString(g, v));
  if (typeof v === 'number') return replace(g.pick([-1, 0, 1.5, 2 ** 53, 1e300, String(v), null]));
  if (Array.isArray(v))
    return replace(g.pick([[], {}, null, [...(v as unknown[]), ...(v as unknown[])]]));
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length > 0 && g.next() < 0.5) {
      delete (v as Record<string, unknown>)[g.pick(keys)];
      return root;
    }
    return replace(g.pick([null, 'text', [], 7, { ...v, 'unknown\u0007': 1 }]));
  }
  return replace(g.pick(['s', 1, {}, []]));
}

/** Runs `parse` on each input: it may accept, or refuse with a printable one-line SignetError. */
function holds(what: string, inputs: Iterable<() => unknown>): void {
  let refused = 0;
  for (const run of inputs) {
    try {
      run();
    } catch (e) {
      if (!(e instanceof SignetError))
        assert.fail(`${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
      assert.equal(printable(e.message), e.message, `${what}: the message is not printable`);
      refused++;
    }
  }
  // A run in which every mutation passed reached no check at all.
  assert.ok(refused > 0, `${what}: every mutation was accepted`);
}

function* rounds<T>(seed: number, make: (g: Gen) => T): Generator<T> {
  const g = generator(seed);
  for (let i = 0; i < ROUNDS; i++) yield make(g);
}

const bundleText = (name: string): string =>
  fs.readFileSync(path.join(C, 'bundle-verify', name, 'bundle.sigstore.json'), 'utf8');

test('bundles: parsed and verified after a change anywhere, including inside base64 JSON', () => {
  const artifact = {
    kind: 'bytes' as const,
    data: new Uint8Array(fs.readFileSync(path.join(C, 'bundle-verify/a.txt'))),
  };
  for (const [i, name] of [
    'happy-path-v0.3',
    'happy-path-intoto-in-dsse-v3',
    'rekor2-happy-path',
    'rekor2-dsse-happy-path',
  ].entries()) {
    const own = path.join(C, 'bundle-verify', name, 'trusted_root.json');
    const root = parseTrustedRootJSON(
      fs.readFileSync(
        fs.existsSync(own) ? own : path.join(C, 'trust-roots/production/trusted_root.json'),
        'utf8',
      ),
    );
    const text = bundleText(name);
    holds(
      name,
      rounds(10 + i, (g) => {
        const mutated = JSON.stringify(mutateJson(g, JSON.parse(text)));
        return () =>
          verifyBundle(parseBundleJSON(mutated), artifact, root, { kind: 'anyIdentity' });
      }),
    );
  }
});

test('DER and TLS structures: certificates, SCT lists, RFC 3161 tokens and requests, CMS', () => {
  const v03 = JSON.parse(bundleText('happy-path-v0.3')) as {
    verificationMaterial: { certificate: { rawBytes: string } };
  };
  const leafDer = Buffer.from(v03.verificationMaterial.certificate.rawBytes, 'base64');
  const sctExtension = extensionOf(parseCertificate(leafDer), '1.3.6.1.4.1.11129.2.4.2')!.value;
  // the extension value is an OCTET STRING around the TLS-encoded list
  const sctList = sctExtension.subarray(
    sctExtension[1]! < 0x80 ? 2 : 2 + (sctExtension[1]! & 0x7f),
  );
  const r2 = JSON.parse(bundleText('rekor2-happy-path')) as {
    verificationMaterial: {
      timestampVerificationData: { rfc3161Timestamps: Array<{ signedTimestamp: string }> };
    };
  };
  const response = Buffer.from(
    r2.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0]!.signedTimestamp,
    'base64',
  );
  const request = encodeTimestampRequest({
    hashAlgorithm: 'sha256',
    digest: createHash('sha256').update('x').digest(),
    nonce: 5n,
    certReq: true,
  });
  const signedAttrs = gitSignedAttributes(Buffer.from('tree 0\n'), new Date(0));
  const gitDer = assembleGitSignature({
    certificate: leafDer,
    alg: signingAlgorithm(privateKey),
    signedAttrs,
    signature: sign(signedAttrs),
    timestampToken: timestampToken(response),
  });
  const cases: Array<[string, Uint8Array, (b: Uint8Array) => unknown]> = [
    ['certificate', leafDer, (b) => parseCertificate(b)],
    ['SCT list', sctList, (b) => parseSctList(b)],
    ['RFC 3161 response', response, (b) => parseTimestamp(b)],
    ['RFC 3161 request', request, (b) => parseTimestampRequest(b)],
    ['CMS SignedData', gitDer, (b) => parseSignedData(b)],
    ['git signature', Buffer.from(armorGitSignature(gitDer)), (b) => parseGitSignature(b)],
  ];
  for (const [i, [what, good, parse]] of cases.entries())
    holds(
      what,
      rounds(20 + i, (g) => {
        const b = g.next() < 0.3 ? mutateBytes(g, mutateBytes(g, good)) : mutateBytes(g, good);
        return () => parse(b);
      }),
    );
});

test('request bodies: Rekor v1 and v2 entries, Fulcio requests, witness checkpoints', () => {
  const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const artifact = Buffer.from('artifact');
  const digest = createHash('sha256').update(artifact).digest();
  const signature = sign(artifact);
  const dsse = JSON.parse(bundleText('happy-path-intoto-in-dsse-v3')) as {
    dsseEnvelope: { payload: string; payloadType: string; signatures: Array<{ sig: string }> };
    verificationMaterial: { certificate: { rawBytes: string } };
  };
  const envelope = dsse.dsseEnvelope;
  const cert = `-----BEGIN CERTIFICATE-----\n${dsse.verificationMaterial.certificate.rawBytes}\n-----END CERTIFICATE-----\n`;
  const r2 = JSON.parse(bundleText('rekor2-happy-path')) as {
    verificationMaterial: {
      tlogEntries: Array<{ inclusionProof: { checkpoint: { envelope: string } } }>;
    };
  };
  const checkpoint = r2.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope;
  const json: Array<[string, () => unknown, (v: unknown) => unknown]> = [
    [
      'Rekor v1 hashedrekord',
      () => hashedrekordV001({ digest, signature, verifierPem: pem }),
      (v) => parseProposedEntryV1(v),
    ],
    [
      'Rekor v1 dsse',
      () =>
        dsseV001({
          envelopeJson: JSON.stringify({
            ...envelope,
            signatures: [{ sig: envelope.signatures[0]!.sig, keyid: '' }],
          }),
          verifierPems: [cert],
        }),
      (v) => parseProposedEntryV1(v),
    ],
    [
      'Rekor v2 hashedrekord',
      () =>
        hashedrekordRequestV002({
          digest,
          signature,
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }),
        }),
      (v) => parseCreateEntryRequestV2(v),
    ],
    [
      'Fulcio signingCert',
      () => ({
        credentials: { oidcIdentityToken: 'a.b.c' },
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: pem },
          proofOfPossession: sign(Buffer.from('x')).toString('base64'),
        },
      }),
      (v) => parseSigningCertRequest(v, undefined),
    ],
  ];
  for (const [i, [what, make, parse]] of json.entries()) {
    parse(make()); // the unmutated input is good
    holds(
      what,
      rounds(30 + i, (g) => {
        const v = mutateJson(g, make());
        return () => parse(v);
      }),
    );
  }
  const witness = `old 735\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n${checkpoint}`;
  holds(
    'signed note',
    rounds(40, (g) => {
      const t = String(mutateString(g, checkpoint));
      return () => parseNote(t);
    }),
  );
  holds(
    'add-checkpoint',
    rounds(41, (g) => {
      const b = mutateBytes(g, Buffer.from(witness));
      return () => parseAddCheckpoint(b);
    }),
  );
});

test('what registries and the API server send: manifests, payloads, envelopes, reviews, YAML', () => {
  const digest = (c: string) => `sha256:${c.repeat(64)}`;
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: digest('b'),
      size: 10,
    },
    layers: [
      {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        digest: digest('c'),
        size: 5,
        annotations: { 'dev.cosignproject.cosign/signature': 'MEUC' },
      },
    ],
  };
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: digest('d'),
        size: 100,
        platform: { architecture: 'amd64', os: 'linux' },
      },
    ],
  };
  const simpleSigning = {
    critical: {
      identity: { 'docker-reference': 'registry.local/a' },
      image: { 'docker-manifest-digest': digest('a') },
      type: 'cosign container image signature',
    },
    optional: { note: 'x' },
  };
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default' },
        spec: { containers: [{ name: 'c', image: `registry.local/a@${digest('a')}` }] },
      },
    },
  };
  const dsse = JSON.parse(bundleText('happy-path-intoto-in-dsse-v3')) as {
    dsseEnvelope: { payload: string };
  };
  const statement = JSON.parse(
    Buffer.from(dsse.dsseEnvelope.payload, 'base64').toString(),
  ) as unknown;
  const cases: Array<[string, unknown, (v: unknown) => unknown]> = [
    [
      'image manifest',
      manifest,
      (v) => parseManifest(Buffer.from(JSON.stringify(v)), manifest.mediaType, 'manifest'),
    ],
    [
      'image index',
      index,
      (v) => parseManifest(Buffer.from(JSON.stringify(v)), undefined, 'index'),
    ],
    ['simple signing', simpleSigning, (v) => parseSimpleSigning(Buffer.from(JSON.stringify(v)))],
    ['DSSE envelope', dsse.dsseEnvelope, (v) => parseEnvelope(v)],
    ['in-toto statement', statement, (v) => parseStatement(Buffer.from(JSON.stringify(v)))],
    ['AdmissionReview', review, (v) => parseAdmissionReview(v)],
    ['YAML', review, (v) => parseYamlDocuments(String(v), 'doc')],
  ];
  for (const [i, [what, good, parse]] of cases.entries())
    holds(
      what,
      rounds(50 + i, (g) => {
        const v = mutateJson(g, structuredClone(good));
        // YAML: the JSON text of the value, then changed as bytes
        const input =
          what === 'YAML' ? mutateBytes(g, Buffer.from(JSON.stringify(v))).toString('latin1') : v;
        return () => parse(input);
      }),
    );
});
