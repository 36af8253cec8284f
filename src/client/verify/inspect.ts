import { toHex } from '../../core/encoding/hex.ts';
import { leafHash } from '../../core/merkle/hash.ts';
import { explorerEntryUrl } from '../explorer-link.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import { parseCertificate, type X509Certificate } from '../../core/x509/certificate.ts';
import { checkIssuedByTrustedCa, issuerNamesake, issuingAuthority } from '../../core/x509/chain.ts';
import { namedFulcioExtensions, fulcioIssuer } from '../../core/x509/fulcio-extensions.ts';
import { parseTimestamp } from '../../core/rfc3161/token.ts';
import { verifyTimestamp } from '../../core/rfc3161/verify.ts';
import { parseNote } from '../../core/note/note.ts';
import { parseCheckpoint } from '../../core/note/checkpoint.ts';
import { INTOTO_PAYLOAD_TYPE, parseStatement } from '../../core/intoto/index.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import { certificateIdentities } from './policy.ts';
import { findLog, verifySet } from './tlog.ts';

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/**
 * Whether a CA of the trusted root issued the signing certificate, as the verifier checks its
 * chain (at the certificate's own start, as the explorer does): a CA of another deployment with
 * the same name is told apart by its key.
 */
function caVerdict(cert: X509Certificate, root: TrustedRoot): string {
  const cas = root.certificateAuthorities;
  const check = checkIssuedByTrustedCa(cert, cas);
  if (check.trusted) return 'issued by a CA of the trusted root';
  if (issuingAuthority(cert, cas) !== undefined)
    return `DOES NOT VERIFY against the trusted root: ${check.reason}`;
  return issuerNamesake(cert, cas)
    ? 'NOT issued by any CA of the trusted root: the CA of that name in it did not sign it (another deployment, an altered certificate, or a CA rotated after this trusted root was taken)'
    : 'NOT issued by any CA of the trusted root';
}

/**
 * A readable view of what a bundle says: who signed, which issuer vouched, when (and whether
 * that time is verified: only with --trusted-root), which log and index, the timestamps, and
 * for attestations the predicate type and subjects. With a trusted root, each part says
 * whether that root vouches for it (its CA, log, times); that is not a verification of the
 * bundle (no artifact, no identity policy).
 */
export function inspectBundle(b: Bundle, root?: TrustedRoot): string[] {
  const out: string[] = [];
  const verdict = (ok: boolean | undefined, why?: string) =>
    ok === undefined ? 'claimed, not verified' : ok ? 'verified' : `DOES NOT VERIFY: ${why}`;
  out.push(`Bundle:        v${b.version} (${b.mediaType})`);
  let signature: Uint8Array;
  if (b.content.$case === 'messageSignature') {
    const m = b.content.messageSignature;
    signature = m.signature;
    out.push(
      `Content:       signature over ${m.messageDigest ? `${m.messageDigest.algorithm.toLowerCase().replace('sha2_', 'sha')}:${toHex(m.messageDigest.digest)}` : 'an artifact (no digest given)'}`,
    );
  } else {
    const e = b.content.dsseEnvelope;
    signature = e.signatures[0]!.sig;
    out.push(`Content:       DSSE envelope, payload type ${e.payloadType}`);
    if (e.payloadType === INTOTO_PAYLOAD_TYPE) {
      try {
        const s = parseStatement(e.payload, 'payload');
        out.push(`Predicate:     ${s.predicateType}`);
        for (const sub of s.subject)
          out.push(
            `Subject:       ${sub.name || '(unnamed)'} ${Object.entries(sub.digest)
              .map(([a, d]) => `${a}:${d}`)
              .join(' ')}`,
          );
      } catch (err) {
        out.push(`Statement:     malformed (${(err as Error).message})`);
      }
    }
  }
  const signer = b.verificationMaterial.signer;
  if (signer.$case === 'publicKey') {
    out.push(`Signed with:   a public key${signer.hint ? ` (hint ${signer.hint})` : ''}`);
  } else {
    const der = signer.$case === 'certificate' ? signer.certificate : signer.certificates[0]!;
    const cert = parseCertificate(der, 'certificate');
    out.push(`Signed by:     ${certificateIdentities(cert).join(', ') || '(no identity)'}`);
    out.push(`OIDC issuer:   ${fulcioIssuer(cert) ?? '(none)'}`);
    out.push(
      `Certificate:   issued by ${cert.issuer}, valid ${iso(cert.notBefore)} to ${iso(cert.notAfter)}${root ? ` (${caVerdict(cert, root)})` : ''}`,
    );
    for (const [k, v] of Object.entries(namedFulcioExtensions(cert)))
      if (k !== 'issuer' && k !== 'issuerV2') out.push(`  ${k}: ${v}`);
  }
  for (const [i, e] of b.verificationMaterial.tlogEntries.entries()) {
    const log = root ? findLog(e, root.tlogs) : undefined;
    const logName = log ? log.baseUrl : root ? 'an UNTRUSTED log' : `log ${toBase64(e.logId)}`;
    out.push(
      `Log entry ${i + 1}:   ${e.kind} ${e.kindVersion} at index ${e.logIndex} in ${logName}`,
    );
    out.push(`  entry UUID:  ${toHex(leafHash(e.canonicalizedBody))}`);
    // Only the trusted root says where the log is, and so where a Signet stack's explorer is.
    const link = log ? explorerEntryUrl(log.baseUrl, e.canonicalizedBody) : undefined;
    if (link) out.push(`  explorer:    ${link}`);
    if (e.integratedTime > 0) {
      let ok: boolean | undefined;
      let why = '';
      if (root && e.signedEntryTimestamp) {
        try {
          if (!log) throw new Error('the log is not in the trusted root');
          verifySet(e, log);
          ok = true;
        } catch (err) {
          ok = false;
          why = (err as Error).message;
        }
      }
      out.push(`  integrated:  ${iso(new Date(e.integratedTime * 1000))} (${verdict(ok, why)})`);
    }
    if (e.inclusionProof?.checkpoint) {
      try {
        const cp = parseCheckpoint(
          parseNote(e.inclusionProof.checkpoint, 'checkpoint').text,
          'checkpoint',
        );
        out.push(`  checkpoint:  ${cp.origin}, tree size ${cp.size}`);
      } catch {
        out.push('  checkpoint:  malformed');
      }
    }
  }
  for (const [i, t] of b.verificationMaterial.rfc3161Timestamps.entries()) {
    try {
      const ts = parseTimestamp(t);
      let ok: boolean | undefined;
      let why = '';
      if (root) {
        try {
          verifyTimestamp(t, signature, root.timestampAuthorities);
          ok = true;
        } catch (err) {
          ok = false;
          why = (err as Error).message;
        }
      }
      out.push(`Timestamp ${i + 1}:   ${iso(ts.tstInfo.genTime)} (${verdict(ok, why)})`);
    } catch (err) {
      out.push(`Timestamp ${i + 1}:   malformed (${(err as Error).message})`);
    }
  }
  if (
    b.verificationMaterial.rfc3161Timestamps.length === 0 &&
    !b.verificationMaterial.tlogEntries.some((e) => e.integratedTime > 0)
  )
    out.push('Time:          the bundle carries no time of signing');
  return out;
}
