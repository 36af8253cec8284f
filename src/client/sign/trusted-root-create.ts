import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import {
  parseTrustedRoot,
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  trustedRootToJSON,
} from '../../bundle/trusted-root.ts';
import type { JsonObject } from '../../bundle/json.ts';
import { keyDetailsOf } from '../../core/crypto/keys.ts';
import { invalid } from '../../core/errors.ts';
import { decodePem, decodePemAll } from '../../core/encoding/pem.ts';
import { noteLogId } from '../../core/note/keys.ts';

/**
 * `trusted-root create` (cosign v3's command): a trusted_root.json composed from the
 * verification material of any Sigstore deployment, given as service specs
 * `key=value,key=value` (cosign's syntax):
 *   --fulcio url=URL,certificate-chain=PEM[,start-time=RFC3339][,end-time=..][,operator=..]
 *   --rekor  url=URL,public-key=PEM,start-time=RFC3339[,end-time=..][,origin=NAME][,operator=..]
 *   --ctfe   url=URL,public-key=PEM,start-time=RFC3339[,end-time=..][,operator=..]
 *   --tsa    url=URL,certificate-chain=PEM[,start-time=..][,end-time=..][,operator=..]
 * Rekor v1 logs are named by SHA-256 of their key; give `origin` for a Rekor v2 (tile) log,
 * whose checkpoints name the key by origin (C2SP signed-note key IDs).
 */
export interface TrustMaterialFiles {
  /** Reads a file named in a spec (the CLI reads from disk; tests may pass contents). */
  read: (file: string, field: string) => string;
}

type Kind = 'fulcio' | 'rekor' | 'ctfe' | 'tsa';

const KEYS: Record<Kind, { required: string[]; optional: string[] }> = {
  fulcio: {
    required: ['url', 'certificate-chain'],
    optional: ['start-time', 'end-time', 'operator'],
  },
  tsa: { required: ['url', 'certificate-chain'], optional: ['start-time', 'end-time', 'operator'] },
  rekor: {
    required: ['url', 'public-key', 'start-time'],
    optional: ['end-time', 'origin', 'operator'],
  },
  ctfe: { required: ['url', 'public-key', 'start-time'], optional: ['end-time', 'operator'] },
};

export function parseServiceSpec(kind: Kind, spec: string): Record<string, string> {
  const field = `--${kind}`;
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid(field, `"${part}" is not key=value`);
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (![...KEYS[kind].required, ...KEYS[kind].optional].includes(k))
      throw invalid(
        field,
        `unknown key "${k}" (keys: ${[...KEYS[kind].required, ...KEYS[kind].optional].join(', ')})`,
      );
    if (k in out) throw invalid(field, `key "${k}" is given twice`);
    out[k] = v;
  }
  for (const k of KEYS[kind].required) if (!out[k]) throw invalid(field, `"${k}" is required`);
  const u = out.url!;
  try {
    new URL(u);
  } catch {
    throw invalid(`${field} url`, `"${u}" is not a URL`);
  }
  for (const t of ['start-time', 'end-time'])
    if (out[t] !== undefined && Number.isNaN(Date.parse(out[t]!)))
      throw invalid(`${field} ${t}`, `"${out[t]}" is not an RFC 3339 time`);
  return out;
}

export function createTrustedRoot(
  specs: { fulcio: string[]; rekor: string[]; ctfe: string[]; tsa: string[] },
  files: TrustMaterialFiles,
): JsonObject {
  const ca = (kind: 'fulcio' | 'tsa') => (spec: string) => {
    const s = parseServiceSpec(kind, spec);
    const field = `--${kind} certificate-chain`;
    const blocks = decodePemAll(files.read(s['certificate-chain']!, field), field);
    const certs = blocks.map((b, i) => {
      if (b.label !== 'CERTIFICATE')
        throw invalid(field, `PEM block ${i + 1} is "${b.label}", not a CERTIFICATE`);
      try {
        return new X509Certificate(Buffer.from(b.der));
      } catch (e) {
        throw invalid(field, `certificate ${i + 1} does not parse: ${(e as Error).message}`, e);
      }
    });
    const first = certs[0]!;
    const subject = Object.fromEntries(
      first.subject
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const validFor: JsonObject = {
      start: new Date(s['start-time'] ?? first.validFrom).toISOString(),
    };
    if (s['end-time']) validFor.end = new Date(s['end-time']).toISOString();
    const out: JsonObject = {
      subject: { organization: subject.O ?? '', commonName: subject.CN ?? '' },
      uri: s.url,
      certChain: { certificates: certs.map((c) => ({ rawBytes: c.raw.toString('base64') })) },
      validFor,
    };
    if (s.operator) out.operator = s.operator;
    return out;
  };
  const log = (kind: 'rekor' | 'ctfe') => (spec: string) => {
    const s = parseServiceSpec(kind, spec);
    const field = `--${kind} public-key`;
    let key;
    try {
      const block = decodePem(files.read(s['public-key']!, field), field);
      if (block.label !== 'PUBLIC KEY') throw new Error(`found PEM "${block.label}"`);
      key = createPublicKey({ key: Buffer.from(block.der), format: 'der', type: 'spki' });
    } catch (e) {
      throw invalid(field, `is not a PEM public key: ${(e as Error).message}`, e);
    }
    const spki = key.export({ format: 'der', type: 'spki' });
    const validFor: JsonObject = { start: new Date(s['start-time']!).toISOString() };
    if (s['end-time']) validFor.end = new Date(s['end-time']).toISOString();
    const logId = s.origin
      ? Buffer.from(noteLogId(s.origin, key)).toString('base64')
      : createHash('sha256').update(spki).digest('base64');
    const out: JsonObject = {
      baseUrl: s.url,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: spki.toString('base64'),
        keyDetails: keyDetailsOf(key, field),
        validFor,
      },
      logId: { keyId: logId },
    };
    if (s.origin) out.checkpointKeyId = { keyId: logId };
    if (s.operator) out.operator = s.operator;
    return out;
  };
  const json = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE_V01,
    tlogs: specs.rekor.map(log('rekor')),
    certificateAuthorities: specs.fulcio.map(ca('fulcio')),
    ctlogs: specs.ctfe.map(log('ctfe')),
    timestampAuthorities: specs.tsa.map(ca('tsa')),
  };
  // Through the strict parser and writer: what we print is a root verifiers accept.
  return trustedRootToJSON(parseTrustedRoot(json));
}
