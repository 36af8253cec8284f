/**
 * From command-line choices to loaded policies: the default trust (--trusted-root / --server,
 * only when given: static-only policies need none), then every policy file.
 */
import { loadTrustedRoot, tufCacheDir, type VerifyFlags } from '../verify/setup.ts';
import { loadPolicies } from './load.ts';
import type { AuthorityTrust, Policy } from './types.ts';
import type { NoMatchPolicy } from './engine.ts';
import { invalid } from '../../core/errors.ts';

/**
 * With --policy the policies say who may sign and what a signature needs (authorities, keys,
 * witnesses, CT and log requirements) and decide about bundles: the verify flags that say the
 * same are refused, not left unread, so `--witness-key` or `--certificate` given with a policy
 * never looks checked when it is not. The identity flags first, with their own sentence.
 */
export function refuseFlagsPoliciesReplace(
  flags: Omit<VerifyFlags, 'bundle'> & { payload?: string | undefined },
): void {
  if ([flags.certificateIdentity, flags.certificateIdentityRegexp, flags.key].some(given))
    throw invalid(
      '--policy',
      'give either --policy or --key / certificate identity flags: the policy says who may sign',
    );
  const replaced: Array<[string, unknown]> = [
    ['--certificate-oidc-issuer', flags.certificateOidcIssuer],
    ['--certificate-oidc-issuer-regexp', flags.certificateOidcIssuerRegexp],
    ['--certificate-github-workflow-trigger', flags.certificateGithubWorkflowTrigger],
    ['--certificate-github-workflow-sha', flags.certificateGithubWorkflowSha],
    ['--certificate-github-workflow-name', flags.certificateGithubWorkflowName],
    ['--certificate-github-workflow-repository', flags.certificateGithubWorkflowRepository],
    ['--certificate-github-workflow-ref', flags.certificateGithubWorkflowRef],
    ['--certificate-extension', flags.certificateExtension],
    ['--witness-key', flags.witnessKey],
    ['--witness-threshold', flags.witnessThreshold],
    ['--insecure-ignore-sct', flags.insecureIgnoreSct],
    ['--insecure-ignore-tlog', flags.insecureIgnoreTlog],
  ];
  const r = replaced.find(([, v]) => given(v));
  if (r)
    throw invalid(
      r[0],
      'does not go with --policy: the policies say who may sign and what a signature needs',
    );
  // cosign's detached inputs: the policies decide about bundles, so these would go unread.
  const detached: Array<[string, unknown]> = [
    ['--signature', flags.signature],
    ['--certificate', flags.certificate],
    ['--certificate-chain', flags.certificateChain],
    ['--rfc3161-timestamp', flags.rfc3161Timestamp],
    ['--payload', flags.payload],
  ];
  const d = detached.find(([, v]) => given(v));
  if (d)
    throw invalid(
      d[0],
      'is not read with --policy: the policies decide about bundles and the signatures stored with the artifact',
    );
}

/** A flag on the command line: a boolean flag's default (false) is not. */
const given = (v: unknown): boolean => v !== undefined && v !== false;

export async function defaultTrust(flags: VerifyFlags): Promise<AuthorityTrust | undefined> {
  if (flags.trustedRoot === undefined && flags.server === undefined) return undefined;
  const root = await loadTrustedRoot(flags);
  return { root, label: flags.trustedRoot ?? flags.server! };
}

export async function loadPolicySet(paths: string[], flags: VerifyFlags): Promise<Policy[]> {
  return policiesWithTrust(paths, await defaultTrust(flags), flags.http?.timeoutMs);
}

/**
 * The policy files, with `trust` for authorities that name no trust root; `timeoutMs` bounds
 * each request for a TrustRoot's remote TUF repository.
 */
export function policiesWithTrust(
  paths: string[],
  trust: AuthorityTrust | undefined,
  timeoutMs?: number,
): Promise<Policy[]> {
  return loadPolicies(paths, {
    ...(trust ? { defaultTrust: trust } : {}),
    tufCacheDir: tufCacheDir(),
    timeoutMs,
  });
}

export function parseNoMatch(v: string | undefined, flag: string): NoMatchPolicy | undefined {
  if (v === undefined) return undefined;
  if (v !== 'allow' && v !== 'warn' && v !== 'deny')
    throw invalid(flag, `"${v}" is not allow, warn or deny`);
  return v;
}
