import net from 'node:net';

/**
 * Whether `signet up` may listen where others can reach it with the built-in identity
 * provider's local-use defaults: the password-less test grant (any client can ask for a token
 * for any configured identity) and the default identities (dev@signet.local, ...). Both are
 * for a stack on loopback; exposed, anyone who reaches the port gets certificates.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The local-use defaults in effect in an `oidc` config section, as sentences (none: safe). */
export function testIdentityDefaults(oidc: Record<string, unknown>): string[] {
  const out: string[] = [];
  const clients = oidc['clients'];
  if (clients === undefined)
    out.push('the password-less test grant is on (oidc.clients is not configured)');
  else if (Array.isArray(clients))
    for (const c of clients) {
      const o = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
      if (o['testGrant'] === true && o['secret'] === undefined)
        out.push(`client ${String(o['id'])} may use the test grant without a secret`);
    }
  if (oidc['identities'] === undefined && oidc['includeDefaultIdentities'] !== false)
    out.push(
      'the default identities (dev@signet.local, ...) are on (oidc.identities is not configured)',
    );
  return out;
}
