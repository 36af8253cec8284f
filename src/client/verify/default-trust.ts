/**
 * The trusted roots loadTrust took from the default TUF repository, because no trusted root
 * file and no server was named. A bundle a private stack made fails against that root (Sigstore
 * public-good's, unless `signet initialize` chose another) as one from another deployment, and
 * the user, who never chose that root, is told which it was and what to give instead.
 */
import type { TrustedRoot } from '../../bundle/trusted-root.ts';

export interface DefaultTrust {
  /** The default TUF repository. */
  mirror: string;
  /** It is public-good's, or a mirror of it: anchored in the root.json shipped with Signet. */
  publicGood: boolean;
  /** It did not answer and the cache had nothing: the trusted root shipped with Signet was used. */
  shipped: boolean;
  /** How the caller names its trust inputs: the CLI's flags, git's settings, the library's options. */
  names: { server: string; trustedRoot: string };
}

const roots = new WeakMap<TrustedRoot, DefaultTrust>();

export function recordDefaultTrust(root: TrustedRoot, trust: DefaultTrust): void {
  roots.set(root, trust);
}

/**
 * For a failure against `root`: which default trusted root it was and what to give instead, as
 * one clause; undefined for a root that was named (a file, a server) or made by the caller.
 */
export function defaultTrustClause(root: TrustedRoot): string | undefined {
  const t = roots.get(root);
  if (t === undefined) return undefined;
  const { server, trustedRoot } = t.names;
  const flags = server.startsWith('-');
  const which = !t.publicGood
    ? `from the TUF repository ${t.mirror}`
    : t.shipped
      ? `Sigstore public-good's as shipped with Signet, which may be out of date (the TUF repository ${t.mirror} did not answer)`
      : `Sigstore public-good's (through TUF from ${t.mirror})`;
  const instead = flags
    ? `give ${server} URL (the deployment that made it) or ${trustedRoot} FILE`
    : `set ${server} to the deployment that made it, or ${trustedRoot} to its trusted root file`;
  return `no ${server} or ${trustedRoot} was ${flags ? 'given' : 'set'}, so the trusted root was the default, ${which}: ${instead}`;
}
