const { createHash } = process.getBuiltinModule('node:crypto');
/**
 * GnuPG status lines (gnupg doc/DETAILS "Format of the --status-fd output") as git reads them
 * from a gpg.x509.program (git gpg-interface.c). Git finds a keyword only at the start of the
 * output or after a newline, so every answer starts with a line of its own (BEGIN_SIGNING when
 * signing, NEWSIG when verifying), as gpgsm and gitsign do.
 *
 * What git then shows (%G?, gpg-interface.c parse_gpg_output): G for a good signature; B for
 * one that is wrong by its own certificate (gpgsm's BADSIG); E for every other failure. Never
 * Y: a Fulcio certificate is checked at the signature's verified time, and one not valid then
 * is a failure, not "good, by an expired key" (which git since 2.54 accepts). Never U (gpgsm's
 * GOODSIG with TRUST_NEVER for an untrusted chain): many scripts accept U as signed, so a
 * signer signet.identity does not name, or an untrusted CA, is E. N is git's own (unsigned).
 */

const PREFIX = '[GNUPG:] ';

/** The certificate fingerprint gpgsm and gitsign print: SHA-1 of the DER, upper-case hex. */
export function certificateFingerprint(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

/** User IDs are percent-escaped in status lines (DETAILS: "%XX escaped"). */
function escapeUid(s: string): string {
  let out = '';
  for (const c of s) {
    const n = c.charCodeAt(0);
    out += c === '%' || n < 0x20 ? `%${n.toString(16).padStart(2, '0').toUpperCase()}` : c;
  }
  return out;
}

/**
 * After a detached signature: `SIG_CREATED D <pk-algo> <hash-algo> 00 <time> <fpr>` with
 * OpenPGP algorithm ids (RFC 4880 §9.1, §9.4: ECDSA 19, SHA-256 8), as gitsign writes it.
 */
export function sigCreatedStatus(certDer: Uint8Array, time: Date): string {
  return (
    `${PREFIX}BEGIN_SIGNING\n` +
    `${PREFIX}SIG_CREATED D 19 8 00 ${Math.floor(time.getTime() / 1000)} ${certificateFingerprint(certDer)}\n`
  );
}

export function newSigStatus(): string {
  return `${PREFIX}NEWSIG\n`;
}

/**
 * The signer as GOODSIG and BADSIG name it (git's %GS): the certificate's identities, as gpgsm
 * names its subject. Fulcio certificates have an empty subject (gitsign prints that); their
 * identity is in the SAN. Nothing when there is none: never a made-up name. The key field
 * ends with a space even then, since git reads the key up to the next space.
 */
function signerName(identity: readonly string[]): string {
  return escapeUid(identity.join(', '));
}

/** A good signature, its signer, and full validity in the X.509 ("shell") model. */
export function goodSigStatus(
  certDer: Uint8Array,
  identity: readonly string[],
  time: Date,
): string {
  const fpr = certificateFingerprint(certDer);
  const t = Math.floor(time.getTime() / 1000);
  return (
    `${PREFIX}GOODSIG ${fpr} ${signerName(identity)}\n` +
    `${PREFIX}VALIDSIG ${fpr} ${new Date(t * 1000).toISOString().slice(0, 10)} ${t} 0 - - - - - ${fpr}\n` +
    `${PREFIX}TRUST_FULLY 0 shell\n`
  );
}

/**
 * The signature was checked against its own certificate and is wrong (content changed after
 * signing, or not made with the certificate's key): gpgsm's BADSIG, git's %G? B. `identity`
 * is the certificate's, unverified: whom the signature claims.
 */
export function badSigStatus(certDer: Uint8Array, identity: readonly string[]): string {
  return `${PREFIX}BADSIG ${certificateFingerprint(certDer)} ${signerName(identity)}\n`;
}

/**
 * The signature could not be checked, or was checked and is not accepted (untrusted CA, no
 * valid log entry or time, not the identity signet.identity names): git's %G? E, %GK the
 * fingerprint, no signer. `ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc>`; rc 9 is
 * "missing public key", 4 "unknown algorithm". Without a readable certificate the key ID is
 * gpg's all-zero one.
 */
export function errSigStatus(certDer: Uint8Array | undefined, rc: 4 | 9): string {
  const id = certDer ? certificateFingerprint(certDer) : '0000000000000000';
  return `${PREFIX}ERRSIG ${id} 19 8 00 0 ${rc}\n`;
}
