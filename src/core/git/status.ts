const { createHash } = process.getBuiltinModule('node:crypto');
/**
 * GnuPG status lines (gnupg doc/DETAILS "Format of the --status-fd output") as git reads them
 * from a gpg.x509.program (git gpg-interface.c). Git finds a keyword only at the start of the
 * output or after a newline, so every answer starts with a line of its own (BEGIN_SIGNING when
 * signing, NEWSIG when verifying), as gpgsm and gitsign do.
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

/** A good signature, its signer, and full validity in the X.509 ("shell") model. */
export function goodSigStatus(certDer: Uint8Array, signer: string, time: Date): string {
  const fpr = certificateFingerprint(certDer);
  const t = Math.floor(time.getTime() / 1000);
  return (
    `${PREFIX}GOODSIG ${fpr} ${escapeUid(signer)}\n` +
    `${PREFIX}VALIDSIG ${fpr} ${new Date(t * 1000).toISOString().slice(0, 10)} ${t} 0 - - - - - ${fpr}\n` +
    `${PREFIX}TRUST_FULLY 0 shell\n`
  );
}

/** The signature was checked and is wrong (content changed, other key). */
export function badSigStatus(certDer: Uint8Array, signer: string): string {
  return `${PREFIX}BADSIG ${certificateFingerprint(certDer)} ${escapeUid(signer)}\n`;
}

/**
 * The signature could not be checked: `ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc>`;
 * rc 9 is "missing public key" (no usable certificate), 4 "unknown algorithm".
 */
export function errSigStatus(certDer: Uint8Array | undefined, rc: 4 | 9): string {
  const id = certDer ? certificateFingerprint(certDer) : '0000000000000000';
  return `${PREFIX}ERRSIG ${id} 19 8 00 0 ${rc}\n`;
}
