import { Option, type Command } from '../commander.ts';
import type { ObjectVerification } from '../../client/git/commits.ts';
import type { VerifyFlags } from '../../client/verify/setup.ts';
import { addIdentityFlags, addTrustFlags } from '../trust-flags.ts';
import { requestTimeout, timeoutOption } from '../flags.ts';
import { printable } from '../../core/encoding/printable.ts';
import { errorLine, exitCodeFor } from '../errors.ts';
import { SignetError } from '../../core/errors.ts';

export interface GitVerifyFlags extends VerifyFlags {
  range?: string;
  policy?: string[];
  repository?: string;
  ref?: string;
  insecureIgnoreTlog?: boolean;
  offline?: boolean;
  timeout?: string;
  /** signet-gitsign verify, verify-tag: print gitsign's summary instead of Signet's line. */
  gitsignSummary?: boolean;
}

/** One line: who signed, when, and how it is logged (or that it is not). */
export function describeGitResult(r: ObjectVerification): string {
  const who = `${r.identity.join(', ') || '(no identity)'} (issuer ${r.issuer ?? 'unknown'})`;
  const when = r.times
    .map(
      (t) =>
        `${t.time.toISOString()} (${t.source === 'timestamp-authority' ? 'timestamp authority' : 'transparency log'})`,
    )
    .join(', ');
  const log = r.log
    ? `log index ${r.log.logIndex}${r.log.mode === 'online' ? ' (online entry)' : ''}`
    : 'NO TRANSPARENCY LOG ENTRY (timestamp only)';
  return `signed by ${who} at ${when}, ${log}`;
}

/**
 * What `gitsign verify` prints on stdout (gitsign internal/commands/verify PrintSummary, with
 * the claims of its sigstore-go verifier): `signet-gitsign verify` and `verify-tag` print it so
 * that scripts written for gitsign find the lines they look for. The certificate ID is the
 * lower-case SHA-1 fingerprint, the issuer Go's pkix.Name string (most significant RDN last).
 */
export function gitsignSummary(r: ObjectVerification): string {
  const { X509Certificate } = process.getBuiltinModule('node:crypto');
  const issuerName = new X509Certificate(r.certificate).issuer.split('\n').reverse().join(',');
  return (
    [
      `tlog index: ${r.log ? r.log.logIndex : 'none (timestamp only)'}`,
      `gitsign: Signature made using certificate ID 0x${r.fingerprint.toLowerCase()} | ${issuerName}`,
      `gitsign: Good signature from [${r.identity.join(' ')}](${r.issuer ?? ''})`,
      'Validated Git signature: true',
      `Validated Rekor entry: ${r.log !== undefined}`,
      'Validated Certificate claims: true',
    ]
      .map(printable)
      .join('\n') + '\n'
  );
}

/**
 * A signature of another deployment (OTHER_DEPLOYMENT names its CA, log and TSA): also where
 * git verification takes its deployment from, which is what the user has to change. Against
 * the default trusted root the message already says to give --server (client/verify/
 * default-trust.ts): only the repository's setting is added.
 */
export function pointAtDeployment(e: unknown): unknown {
  if (!(e instanceof SignetError) || e.code !== 'OTHER_DEPLOYMENT') return e;
  return new SignetError(
    e.kind,
    e.code,
    e.details?.defaultTrust === true
      ? `${e.message}; or set the deployment for this repository: git config signet.server URL`
      : `${e.message}; give the deployment that signed it with --server URL, or set it for this repository: git config signet.server URL`,
    { cause: e, ...(e.details ? { details: e.details } : {}) },
  );
}

/**
 * Without --trusted-root/--server: the stack `signet git setup` configured, as git's own
 * verification uses; and --timeout as each request's deadline (cosign's commands' meaning).
 */
export async function withGitDefaults<T extends VerifyFlags & { timeout?: string }>(
  flags: T,
): Promise<T> {
  flags.http = requestTimeout(flags);
  if (!flags.trustedRoot && !flags.server) {
    const { git } = await import('../../client/git/repo.ts');
    const configured = await git(process.cwd(), ['config', '--get', 'signet.server']).then(
      (b) => b.toString().trim(),
      () => '',
    );
    const server = process.env.SIGNET_SERVER || configured || undefined;
    if (server !== undefined) flags.server = server;
  }
  return flags;
}

/**
 * As gitsign's `verify` (which verify-commit is), gitsign's trust settings (fulcioRoot,
 * timestampCertChain, from the environment or the repository's git config) replace the trusted
 * root's CAs and TSAs, with cosign's SIGSTORE_* files: the same trust as `git verify-commit`
 * in that repository.
 */
async function gitsignOverrides() {
  const { git } = await import('../../client/git/repo.ts');
  const { trustOverridesFromEnv } = await import('../../client/verify/trust.ts');
  const { gitsignTrustFiles, parseGitConfigList, settingLookup } =
    await import('../gitsign-trust.ts');
  const config = await git(process.cwd(), ['config', '--get-regexp', '^gitsign\\.']).then(
    (b) => parseGitConfigList(b.toString()),
    () => new Map<string, string>(),
  );
  return {
    ...trustOverridesFromEnv(process.env),
    ...gitsignTrustFiles(settingLookup(process.env, config)),
  };
}

/**
 * What every git verification takes from the flags (and git config for the server): who must
 * have signed, the witnesses, the trusted root, and the logs to search (none with --offline).
 */
export async function gitVerifySetup(flags: GitVerifyFlags) {
  const { signerPolicy, loadTrustedRoot, witnessPolicy } =
    await import('../../client/verify/setup.ts');
  const policy = await signerPolicy(flags, { keyFlag: false });
  const witnesses = await witnessPolicy(flags);
  await withGitDefaults(flags);
  const trustedRoot = await loadTrustedRoot(flags, process.env, await gitsignOverrides());
  const { trustedLogSearch } = await import('../../client/git/commits.ts');
  return {
    trustedRoot,
    policy,
    witnesses,
    search: flags.offline
      ? undefined
      : trustedLogSearch(
          trustedRoot,
          flags.http ?? {},
          flags.server ? [`${flags.server.replace(/\/+$/, '')}/rekor`] : [],
        ),
  };
}

/** The trust and policy for verifying commit and tag signatures. */
async function gitTrust(flags: GitVerifyFlags) {
  const { trustedRoot, policy, witnesses, search } = await gitVerifySetup(flags);
  const { gitsignEntrySearch } = await import('../../client/git/commits.ts');
  return {
    trustedRoot,
    policy,
    allowNoTlog: flags.insecureIgnoreTlog === true,
    ignoreSct: flags.insecureIgnoreSct === true,
    ...(witnesses ? { witnesses } : {}),
    ...(search ? { search: gitsignEntrySearch(search) } : {}),
  };
}

/** Outside a repository every revision "names no commit": said as what it is. */
export async function requireRepository(command: string): Promise<void> {
  const repo = await import('../../client/git/repo.ts');
  await repo.requireRepository(process.cwd(), `signet ${command}`);
}

function addGitVerifyFlags(cmd: Command): Command {
  addIdentityFlags(cmd);
  addTrustFlags(cmd, { git: true });
  return cmd
    .addOption(timeoutOption())
    .option(
      '--insecure-ignore-tlog',
      'accept signatures with no transparency log entry when a timestamp dates them (marked in the output)',
    )
    .option(
      '--insecure-ignore-sct',
      'accept a certificate without a certificate transparency SCT (gitsign verify has it too)',
    )
    .option('--offline', 'do not search the log for signatures made in gitsign online mode')
    .option(
      '--policy <file>',
      'decide by ClusterImagePolicy files (spec.commits) instead of identity flags (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      '--repository <name>',
      'with --policy: the repository name policies match (default: origin)',
    )
    .option(
      '--ref <ref>',
      "with --policy: the ref policies match (default: the revision's full name)",
    )
    .addOption(new Option('--gitsign-summary').hideHelp());
}

export function registerVerifyCommit(program: Command): void {
  addGitVerifyFlags(
    program
      .command('verify-commit')
      .description(
        'verify the keyless signature of a commit (or of every commit of --range A..B): chain, SCT, log entry, timestamp, identity',
      )
      .argument('[revision]', 'the commit (default HEAD)')
      .option('--range <A..B>', 'verify every commit of a range, one line per commit'),
  ).action(async (rev: string | undefined, flags: GitVerifyFlags) => {
    const { verifyCommit, verifyCommitRange } = await import('../../client/git/commits.ts');
    const { invalid } = await import('../../core/errors.ts');
    // `--range --certificate-identity ...`: commander took the next flag as the range.
    if (flags.range?.startsWith('-'))
      throw invalid('--range', `needs a range of commits (A..B), not the flag ${flags.range}`);
    if (rev !== undefined && flags.range !== undefined)
      throw invalid('--range', 'give either a revision or --range, not both');
    await requireRepository('verify-commit');
    if (flags.policy) {
      const { verifyGitByPolicy } = await import('./policy.ts');
      await verifyGitByPolicy(await withGitDefaults({ ...flags, policy: flags.policy }), rev);
      return;
    }
    const trust = await gitTrust(flags);
    if (flags.range === undefined) {
      const r = await verifyCommit(process.cwd(), rev ?? 'HEAD', trust).catch((e: unknown) => {
        throw pointAtDeployment(e);
      });
      if (flags.gitsignSummary) process.stdout.write(gitsignSummary(r));
      else process.stderr.write(`Verified OK: commit ${r.id} ${describeGitResult(r)}\n`);
      return;
    }
    let good = 0;
    let bad = 0;
    let firstError: unknown;
    for await (const item of verifyCommitRange(process.cwd(), flags.range, trust)) {
      if (item.ok) {
        good++;
        process.stdout.write(`${item.id} OK ${printable(describeGitResult(item.result))}\n`);
      } else {
        bad++;
        firstError ??= item.error;
        process.stdout.write(`${item.id} FAILED ${errorLine(pointAtDeployment(item.error))}\n`);
      }
    }
    if (good === 0 && bad === 0)
      throw invalid('--range', `${flags.range} holds no commits to verify`);
    process.stderr.write(
      bad === 0
        ? `Verified OK: ${good} commit${good === 1 ? '' : 's'} in ${flags.range}\n`
        : `${bad} of ${good + bad} commits in ${flags.range} failed verification\n`,
    );
    // The first failure's own code, as for one commit (10 unsigned, 12 not matching, ...) and
    // as verify-blob does for several files.
    if (bad > 0) process.exitCode = exitCodeFor(firstError);
  });
}

export function registerVerifyTag(program: Command): void {
  addGitVerifyFlags(
    program
      .command('verify-tag')
      .description('verify the keyless signature of an annotated tag')
      .argument('<tag>', 'the tag'),
  ).action(async (tag: string, flags: GitVerifyFlags) => {
    if (flags.policy) {
      const { verifyGitByPolicy } = await import('./policy.ts');
      await verifyGitByPolicy(
        await withGitDefaults({ ...flags, policy: flags.policy }),
        undefined,
        tag,
      );
      return;
    }
    const { verifyTag } = await import('../../client/git/commits.ts');
    const r = await verifyTag(process.cwd(), tag, await gitTrust(flags)).catch((e: unknown) => {
      throw pointAtDeployment(e);
    });
    if (flags.gitsignSummary) process.stdout.write(gitsignSummary(r));
    else process.stderr.write(`Verified OK: tag ${tag} (${r.id}) ${describeGitResult(r)}\n`);
  });
}
