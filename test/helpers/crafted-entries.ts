import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import assert from 'node:assert/strict';
import { TAG, tlv } from '../../src/core/encoding/der.ts';
import { encodePem } from '../../src/core/encoding/pem.ts';
import { encodeName, NAME_OID, type TbsSpec } from '../../src/core/x509/build.ts';
import { OID, parseCertificate } from '../../src/core/x509/certificate.ts';
import {
  buildCaCertificate,
  buildPlainCertificate,
  leafTbsSpec,
  type IssuingCa,
} from '../../src/core/x509/fulcio-profile.ts';

/**
 * Log entries as anyone can write them: a hashedrekord signed with a certificate from a CA of
 * one's own, carrying whatever names, subject and Fulcio extension values one likes, logged
 * through the stack's real Rekor v1 API (the log checks the signature, not who issued the
 * certificate).
 */
export function ownCa(names = { organization: 'sigstore.dev', commonName: 'sigstore' }): IssuingCa {
  const root = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  return {
    certificate: parseCertificate(
      buildCaCertificate({
        ...names,
        publicKeySpki: new Uint8Array(root.publicKey.export({ format: 'der', type: 'spki' })),
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + 3600_000),
        selfKey: root.privateKey,
      }),
    ),
    key: root.privateKey,
  };
}

export interface Crafted {
  /** Subject alternative names as raw GeneralName bytes: `[tag, bytes]` (0x81 email, 0x86 URI). */
  sans?: Array<[number, Uint8Array]>;
  /** A username SAN (Fulcio's otherName, UTF8String) instead. */
  username?: string;
  /** Subject common name. */
  commonName?: string;
  /** Fulcio extension values by arc (1 and 8, the issuer, default to https://issuer.example). */
  extensions?: Partial<Record<number, string>>;
}

export interface CraftedCertificate {
  pem: string;
  key: KeyObject;
}

const utf8 = new TextEncoder();

export function craftCertificate(ca: IssuingCa, c: Crafted): CraftedCertificate {
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spec: TbsSpec = leafTbsSpec(ca, {
    spki: new Uint8Array(leaf.publicKey.export({ format: 'der', type: 'spki' })),
    san: c.username ? { type: 'username', value: c.username } : { type: 'email', value: 'x@y.z' },
    extensions: { 1: 'https://issuer.example', 8: 'https://issuer.example', ...c.extensions },
  });
  if (c.sans) {
    const value = tlv(TAG.SEQUENCE, ...c.sans.map(([tag, bytes]) => tlv(tag, bytes)));
    spec.extensions = spec.extensions.map((e) =>
      e.oid === OID.subjectAltName ? { ...e, value } : e,
    );
  }
  if (c.commonName) spec.subject = encodeName([[NAME_OID.commonName, c.commonName]]);
  return { pem: encodePem('CERTIFICATE', buildPlainCertificate(ca, spec)), key: leaf.privateKey };
}

/** An email SAN of these exact bytes (IA5String: any byte goes in a certificate one makes). */
export const emailSan = (value: string | Uint8Array): [number, Uint8Array] => [
  0x81,
  typeof value === 'string' ? utf8.encode(value) : value,
];

/** Logs a hashedrekord of `artifact` signed with `cert`; returns the entry's UUID. */
export async function logCrafted(
  stackUrl: string,
  cert: CraftedCertificate,
  artifact: string,
): Promise<string> {
  return (await logCraftedEntry(stackUrl, cert, artifact)).uuid;
}

/** A Rekor v1 hashedrekord (proposed entry) of `artifact`, signed with `cert`. */
export function craftedEntryBody(cert: CraftedCertificate, artifact: string) {
  const data = Buffer.from(artifact);
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: {
        hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') },
      },
      signature: {
        content: sign('sha256', data, cert.key).toString('base64'),
        publicKey: { content: Buffer.from(cert.pem).toString('base64') },
      },
    },
  };
}

/** logCrafted, with the entry's log index too. */
export async function logCraftedEntry(
  stackUrl: string,
  cert: CraftedCertificate,
  artifact: string,
): Promise<{ uuid: string; logIndex: number }> {
  const res = await fetch(`${stackUrl}/rekor/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(craftedEntryBody(cert, artifact)),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  // The v1 answer is keyed by entry ID (tree ID + UUID): the UUID is its last 64 digits.
  const [id, entry] = Object.entries(JSON.parse(text) as Record<string, { logIndex: number }>)[0]!;
  return { uuid: id.slice(-64), logIndex: entry.logIndex };
}
