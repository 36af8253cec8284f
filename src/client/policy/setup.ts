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
  const REPLACED =
    'does not go with --policy: the policies say who may sign and what a signature needs';
  // cosign's detached inputs: the policies decide about bundles, so these would go unread.
  const UNREAD =
    'is not read with --policy: the policies decide about bundles and the signatures stored with the artifact';
  const refused: Array<[flag: string, value: unknown, why: string]> = [
    ['--certificate-oidc-issuer', flags.certificateOidcIssuer, REPLACED],
    ['--certificate-oidc-issuer-regexp', flags.certificateOidcIssuerRegexp, REPLACED],
    ['--certificate-github-workflow-trigger', flags.certificateGithubWorkflowTrigger, REPLACED],
    ['--certificate-github-workflow-sha', flags.certificateGithubWorkflowSha, REPLACED],
    ['--certificate-github-workflow-name', flags.certificateGithubWorkflowName, REPLACED],
    [
      '--certificate-github-workflow-repository',
      flags.certificateGithubWorkflowRepository,
      REPLACED,
    ],
    ['--certificate-github-workflow-ref', flags.certificateGithubWorkflowRef, REPLACED],
    ['--certificate-extension', flags.certificateExtension, REPLACED],
    ['--witness-key', flags.witnessKey, REPLACED],
    ['--witness-threshold', flags.witnessThreshold, REPLACED],
    ['--insecure-ignore-sct', flags.insecureIgnoreSct, REPLACED],
    ['--insecure-ignore-tlog', flags.insecureIgnoreTlog, REPLACED],
    ['--signature', flags.signature, UNREAD],
    ['--certificate', flags.certificate, UNREAD],
    ['--certificate-chain', flags.certificateChain, UNREAD],
    ['--rfc3161-timestamp', flags.rfc3161Timestamp, UNREAD],
    ['--payload', flags.payload, UNREAD],
  ];
  const r = refused.find(([, v]) => given(v));
  if (r) throw invalid(r[0], r[2]);
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
