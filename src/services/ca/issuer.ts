import { encodePem } from '../../core/encoding/pem.ts';
import { SignetError } from '../../core/errors.ts';
import type { KeyDetails } from '../../core/crypto/keys.ts';
import type { Sct } from '../../core/ct/sct.ts';
import { encodeTbs } from '../../core/x509/build.ts';
import { parseAndVerifyCsr } from '../../core/x509/csr.ts';
import {
  buildFinalCertificateAsync,
  buildPlainCertificate,
  buildPrecertificateAsync,
  leafTbsSpec,
} from '../../core/x509/fulcio-profile.ts';
import type { CaChainVersion, CaVersion } from './authority.ts';
import type { IdentityVerifier, Principal } from './identity/types.ts';
import { checkKey, checkProofOfPossession, DEFAULT_ALGORITHMS } from './key-policy.ts';
import type { SigningCertRequest } from './request.ts';

/** The CT log as the CA uses it, in process (services/ctlog `CtLog.logPrecertificate`). */
export interface PrecertificateLogger {
  logPrecertificate(req: {
    precertificate: Uint8Array;
    tbs: Uint8Array;
    issuerSpki: Uint8Array;
    chain: Uint8Array[];
  }): Promise<Sct>;
}

/** Fulcio v2 `SigningCertificate` JSON (servers.md 1.2). */
export type SigningCertificateJson =
  | { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } }
  | {
      signedCertificateDetachedSct: {
        chain: { certificates: string[] };
        signedCertificateTimestamp: string;
      };
    };

export interface IssuedCertificate {
  json: SigningCertificateJson;
  leaf: Uint8Array;
  principal: Principal;
}

export interface CertificateAuthorityOptions {
  /** CA versions, oldest first; the last one issues (earlier ones are chains for trustBundle). */
  versions: readonly [...CaChainVersion[], CaVersion];
  verifier: IdentityVerifier;
  /** Without a CT log, certificates carry no SCT (Fulcio's detached path with an empty SCT). */
  ctlog?: PrecertificateLogger;
  allowedAlgorithms?: readonly KeyDetails[];
}

/**
 * Fulcio's issuance (servers.md 1.3): authenticate the token, check the key (CSR self-signature
 * or proof of possession over the principal's challenge, allow-list, weak keys), then precert ->
 * CT log -> final certificate with the SCT embedded. Every check happens before anything is
 * signed or logged, so a failed request leaves no trace.
 */
export class CertificateAuthority {
  readonly versions: readonly [...CaChainVersion[], CaVersion];
  private readonly verifier: IdentityVerifier;
  private readonly ctlog: PrecertificateLogger | undefined;
  private readonly allowed: readonly KeyDetails[];
  private readonly chainPems: string[];
  private readonly chainDers: Uint8Array[];

  constructor(opts: CertificateAuthorityOptions) {
    this.versions = opts.versions;
    this.verifier = opts.verifier;
    this.ctlog = opts.ctlog;
    this.allowed = opts.allowedAlgorithms ?? DEFAULT_ALGORITHMS;
    this.chainPems = this.current().chain.map((c) => encodePem('CERTIFICATE', c.der));
    this.chainDers = this.current().chain.map((c) => c.der);
  }

  current(): CaVersion {
    return this.versions[this.versions.length - 1] as CaVersion;
  }

  async issue(req: SigningCertRequest): Promise<IssuedCertificate> {
    // 1. Authenticate (errors from the verifier name the failed check).
    const principal = await this.verifier.verify(req.token);
    // 2. Key and proof.
    let spki: Uint8Array;
    if (req.key.kind === 'csr') {
      const csr = parseAndVerifyCsr(req.key.csr, 'certificateSigningRequest');
      checkKey(csr.publicKey, this.allowed, 'certificateSigningRequest');
      spki = csr.spki;
    } else {
      const details = checkKey(req.key.key, this.allowed, req.key.fields.key);
      await checkProofOfPossession(
        req.key.key,
        details,
        principal.challenge,
        req.key.proof,
        req.key.fields.proof,
      );
      spki = req.key.spki;
    }
    // 3. Issue.
    const ca = this.current();
    const spec = leafTbsSpec(ca.issuing, {
      spki,
      san: principal.san,
      extensions: principal.extensions,
    });
    if (!this.ctlog) {
      const leaf = buildPlainCertificate(ca.issuing, spec);
      return {
        leaf,
        principal,
        json: {
          signedCertificateDetachedSct: {
            chain: { certificates: [encodePem('CERTIFICATE', leaf), ...this.chainPems] },
            signedCertificateTimestamp: '',
          },
        },
      };
    }
    const pre = await buildPrecertificateAsync(ca.issuing, spec);
    let sct: Sct;
    try {
      sct = await this.ctlog.logPrecertificate({
        precertificate: pre.der,
        tbs: encodeTbs(spec),
        issuerSpki: ca.issuing.certificate.spki,
        chain: this.chainDers,
      });
    } catch (e) {
      if (e instanceof SignetError) throw e;
      throw new SignetError(
        'unavailable',
        'CT_LOG',
        `the CT log did not accept the precertificate: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const leaf = await buildFinalCertificateAsync(ca.issuing, spec, [sct]);
    return {
      leaf,
      principal,
      json: {
        signedCertificateEmbeddedSct: {
          chain: { certificates: [encodePem('CERTIFICATE', leaf), ...this.chainPems] },
        },
      },
    };
  }

  /** `GET /api/v2/trustBundle`: each CA version's chain (issuing certificate ... root), newest first. */
  trustBundle(): { chains: Array<{ certificates: string[] }> } {
    return {
      chains: [...this.versions]
        .reverse()
        .map((v) => ({ certificates: v.chain.map((c) => encodePem('CERTIFICATE', c.der)) })),
    };
  }
}
