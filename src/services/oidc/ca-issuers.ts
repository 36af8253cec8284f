import { type IssuerConfig, parseIssuerConfig } from '../ca/identity/config.ts';

/**
 * The issuer configuration a Signet CA uses when none is given: it trusts exactly the built-in
 * provider's issuers under `<baseUrl>/oidc`, each with the issuer type its tokens are shaped
 * for, so every type can be exercised end to end on one stack. Built through the same parser
 * as a configuration file, so it is checked the same way.
 */
export function defaultCaIssuerConfig(
  baseUrl: string,
  opts: { spiffeTrustDomain?: string; clientId?: string } = {},
): IssuerConfig {
  const root = `${baseUrl.replace(/\/+$/, '')}/oidc`;
  const clientId = opts.clientId ?? 'sigstore';
  const host = new URL(root).hostname;
  const entry = (type: string, extra: Record<string, unknown> = {}) => ({
    'client-id': clientId,
    type,
    description: `Signet built-in identity provider (${type})`,
    ...extra,
  });
  return parseIssuerConfig(
    {
      'oidc-issuers': {
        [root]: entry('email'),
        [`${root}/github`]: entry('ci-provider', { 'ci-provider': 'github-workflow' }),
        [`${root}/gitlab`]: entry('ci-provider', { 'ci-provider': 'gitlab-pipeline' }),
        [`${root}/buildkite`]: entry('ci-provider', { 'ci-provider': 'buildkite-job' }),
        [`${root}/spiffe`]: entry('spiffe', {
          'spiffe-trust-domain': opts.spiffeTrustDomain ?? 'signet.local',
        }),
        [`${root}/uri`]: entry('uri', { 'subject-domain': new URL(root).origin }),
        [`${root}/username`]: entry('username', { 'subject-domain': host.replace(/^\[|\]$/g, '') }),
      },
      'meta-issuers': {
        [`${root}/kubernetes/*`]: entry('kubernetes'),
      },
    },
    'built-in issuer config',
  );
}
