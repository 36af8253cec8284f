import net from 'node:net';

/**
 * Whether `signet up` may listen where others can reach it while its CA trusts the built-in
 * identity provider. That provider is for local use: its login page has no password (whoever
 * reaches it signs in as any identity it lists), the password-less test grant hands out tokens
 * without a page, and the default identities (dev@signet.local, ...) are listed unless turned
 * off. Exposed, anyone who reaches the port gets certificates; a public CA trusts real issuers.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** 0.0.0.0 or `::`: every address of the machine, so no URL of its own to publish. */
export function isWildcardHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0';
}

/**
 * Why the stack's certificates are anyone's to take when it is exposed, as sentences (none:
 * safe): nothing while the CA trusts configured issuers (`ca.issuers`), else the built-in
 * provider's password-less sign-in and whichever local-use defaults the `oidc` section keeps.
 */
export function exposureRisks(
  oidc: Record<string, unknown>,
  ca: Record<string, unknown> = {},
): string[] {
  if (ca['issuers'] !== undefined) return [];
  const out = [
    'the CA trusts the built-in identity provider (ca.issuers is not configured), which signs anyone in without a password as any identity it lists',
  ];
  const clients = oidc['clients'];
  if (clients === undefined)
    out.push('the password-less test grant is on (oidc.clients is not configured)');
  else if (Array.isArray(clients))
    for (const c of clients) {
      const o = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
      if (o['testGrant'] === true && o['secret'] === undefined)
        out.push(`client ${String(o['id'])} may use the test grant without a secret`);
    }
  // The defaults stay beside configured identities unless turned off (oidc/config.ts).
  if (oidc['includeDefaultIdentities'] !== false)
    out.push(
      'the default identities (dev@signet.local, ...) are on (oidc.includeDefaultIdentities is not false)',
    );
  return out;
}
