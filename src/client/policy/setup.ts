/**
 * From command-line choices to loaded policies: the default trust (--trusted-root / --server,
 * only when given: static-only policies need none), then every policy file.
 */
import { loadTrustedRoot, tufCacheDir, type VerifyFlags } from '../verify/setup.ts';
import { loadPolicies } from './load.ts';
import type { AuthorityTrust, Policy } from './types.ts';
import type { NoMatchPolicy } from './engine.ts';
import { invalid } from '../../core/errors.ts';

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
