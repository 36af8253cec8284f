import type { TrustOverrideFiles } from '../client/verify/trust.ts';

/** One setting's value and the name it was found under (an environment variable or git key). */
export type SettingLookup = (names: string[]) => { name: string; value: string } | undefined;

/**
 * gitsign's trust settings, which replace parts of the trusted root as cosign's SIGSTORE_*
 * files do (gitsign internal/gitsign/trustedroot.go): fulcioRoot, the CA certificates (PEM,
 * roots and intermediates in any order), replaces its certificate authorities;
 * timestampCertChain (PEM: at least the root, the TSA's intermediates and its own certificate
 * optional, in any order; the timestamp carries the TSA's certificate), its timestamp
 * authorities.
 * In gitsign's order (internal/config/config.go): GITSIGN_*, SIGSTORE_* (SIGSTORE_ROOT_FILE is
 * cosign's), then git config.
 */
export function gitsignTrustFiles(setting: SettingLookup): TrustOverrideFiles {
  const fulcio = setting([
    'GITSIGN_FULCIO_ROOT',
    'SIGSTORE_FULCIO_ROOT',
    'SIGSTORE_ROOT_FILE',
    'gitsign.fulcioRoot',
  ]);
  const tsa = setting([
    'GITSIGN_TIMESTAMP_CERT_CHAIN',
    'SIGSTORE_TIMESTAMP_CERT_CHAIN',
    'gitsign.timestampCertChain',
  ]);
  return {
    ...(fulcio ? { fulcio: { file: fulcio.value, name: fulcio.name } } : {}),
    ...(tsa ? { tsa: { file: tsa.value, name: tsa.name, pool: true } } : {}),
  };
}

/**
 * A lookup over the environment (upper-case names) and git config (names with a dot; `config`
 * holds `git config --get-regexp` output, keys lower-cased): the first name set wins.
 */
export function settingLookup(env: NodeJS.ProcessEnv, config: Map<string, string>): SettingLookup {
  return (names) => {
    for (const name of names) {
      const value = name.includes('.') ? config.get(name.toLowerCase()) : env[name];
      if (value !== undefined && value !== '') return { name, value };
    }
    return undefined;
  };
}

/** `git config --get-regexp` output as a map of lower-cased keys. */
export function parseGitConfigList(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) m.set(line.slice(0, sp).toLowerCase(), line.slice(sp + 1));
  }
  return m;
}
