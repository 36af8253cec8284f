import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodePemAll, encodePem } from '../../core/encoding/pem.ts';
import {
  createTimestampResponse,
  prepareTimestampSigner,
  refusal,
  type TimestampRequest,
  type TimestampSigner,
} from '../../core/rfc3161/index.ts';
import { OID } from '../../core/rfc3161/oids.ts';
import { KeyRing } from '../keyring.ts';
import type { KeySpec } from '../keys.ts';
import { writeOnce } from '../write-once.ts';
import { issueCertificate, keyIdentifier } from './certificates.ts';

const TSA_RING = 'tsa';
const TSA_CA_RING = 'tsa-ca';
const KEY_SPEC: KeySpec = { type: 'ec', curve: 'P-256' };
const ORG = 'signet';
const TEN_YEARS = 10 * 365 * 24 * 3600 * 1000;

/** One TSA key version with its certificate chain (leaf first) and its validity window. */
export interface TsaVersion {
  id: number;
  chain: Uint8Array[];
  validFrom: Date;
  validTo?: Date;
}

export interface TsaOptions {
  /** Policies a request may ask for; the first is the default (servers.md §4). */
  acceptedPolicies?: string[];
  /** Accuracy in seconds put into every token. */
  accuracySeconds?: number;
  /** Put intermediates and root in tokens too when certReq is set. */
  includeChain?: boolean;
}

/**
 * The TSA's keys and certificates (KeyRing `tsa` for signing keys, `tsa-ca` for the root that
 * certifies them) and the issuing of tokens. The certificate of each key version is made once,
 * stored next to its key as `<id>.chain.pem`, and reused, so a restart serves the same chain.
 */
export class TsaAuthority {
  readonly versions: TsaVersion[];
  private readonly signer: TimestampSigner;
  private readonly policies: string[];
  private readonly accuracy: number;
  private readonly includeChain: boolean;

  private constructor(versions: TsaVersion[], signer: TimestampSigner, o: TsaOptions) {
    this.versions = versions;
    this.signer = signer;
    this.policies = o.acceptedPolicies ?? [OID.sigstoreTsaPolicy];
    this.accuracy = o.accuracySeconds ?? 1;
    this.includeChain = o.includeChain ?? false;
  }

  static open(dataDir: string, o: TsaOptions = {}): TsaAuthority {
    const caRing = KeyRing.open(dataDir, TSA_CA_RING, KEY_SPEC);
    const ring = KeyRing.open(dataDir, TSA_RING, KEY_SPEC);
    const ca = caRing.current();
    const rootFile = path.join(caRing.folder, `${ca.id}.crt.pem`);
    if (!fs.existsSync(rootFile)) {
      const der = issueCertificate({
        subject: { organization: ORG, commonName: 'signet-tsa-root' },
        issuer: { organization: ORG, commonName: 'signet-tsa-root' },
        subjectKey: ca.key,
        issuerKey: ca.key,
        notBefore: new Date(ca.validFrom.getTime() - 60_000),
        notAfter: new Date(ca.validFrom.getTime() + 2 * TEN_YEARS),
        ca: true,
      });
      writeOnce(rootFile, encodePem('CERTIFICATE', der));
    }
    const root = readChain(rootFile)[0]!;
    const versions = ring.versions.map((v) => {
      const file = path.join(ring.folder, `${v.id}.chain.pem`);
      if (!fs.existsSync(file)) {
        const leaf = issueCertificate({
          subject: { organization: ORG, commonName: `signet-tsa-${v.id}` },
          issuer: { organization: ORG, commonName: 'signet-tsa-root' },
          subjectKey: v.key,
          issuerKey: ca.key,
          issuerKeyId: keyIdentifier(ca.key),
          notBefore: new Date(v.validFrom.getTime() - 60_000),
          notAfter: new Date(v.validFrom.getTime() + TEN_YEARS),
          ca: false,
        });
        writeOnce(file, encodePem('CERTIFICATE', leaf) + encodePem('CERTIFICATE', root));
      }
      const tv: TsaVersion = { id: v.id, chain: readChain(file), validFrom: v.validFrom };
      if (v.validTo) tv.validTo = v.validTo;
      return tv;
    });
    const current = versions[versions.length - 1]!;
    return new TsaAuthority(versions, prepareTimestampSigner(ring.current().key, current.chain), o);
  }

  /** The chain of the current signing key, leaf first. */
  currentChain(): Uint8Array[] {
    return this.versions[this.versions.length - 1]!.chain;
  }

  /**
   * Issues a DER TimeStampResp for a parsed request (RFC 3161 §2.4.2). `policyField` names the
   * request's policy in a refusal: the DER field, or the JSON form's `tsaPolicyOID`.
   */
  timestamp(
    req: TimestampRequest,
    policyField = 'TimeStampReq.reqPolicy',
    now = new Date(),
  ): Uint8Array {
    // RFC 3161 §2.4.1: an extension the TSA does not recognize, critical or not, is refused.
    if (req.hasExtensions)
      throw refusal(
        'unacceptedExtension',
        'TimeStampReq.extensions',
        'request extensions are not supported',
        'UNSUPPORTED_EXTENSION',
        'unsupported',
      );
    const policy = req.policy ?? this.policies[0]!;
    if (!this.policies.includes(policy))
      throw refusal(
        'unacceptedPolicy',
        policyField,
        `policy ${policy} is not accepted; this TSA accepts ${this.policies.join(', ')}`,
      );
    const serial = randomBytes(16);
    serial[0]! &= 0x7f;
    return createTimestampResponse(this.signer, req, {
      genTime: now,
      serialNumber: BigInt(`0x${serial.toString('hex')}`),
      policy,
      accuracySeconds: this.accuracy,
      includeChain: this.includeChain,
    });
  }
}

function readChain(file: string): Uint8Array[] {
  return decodePemAll(fs.readFileSync(file, 'utf8'), file).map((b) => b.der);
}
