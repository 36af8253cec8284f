import type { Command } from 'commander';
import { describeWriteError, invalid, verificationFailed } from '../../core/errors.ts';
import type { VerifyFlags } from '../trust-flags.ts';
import {
  addRegistryFlags,
  platformFlag,
  registryOptions,
  type RegistryFlags,
} from '../registry-flags.ts';
import { parseDuration } from '../flags.ts';
import { parseJsonText } from '../../core/json.ts';
import { printable, printableLines } from '../../core/encoding/printable.ts';

const collect = (v: string, all: string[] = []) => [...all, v];

interface GitFlags {
  commits?: string;
  tag?: string;
  repo?: string;
  repository?: string;
  ref?: string;
  offline?: boolean;
}

interface PolicyVerifyFlags extends Omit<VerifyFlags, 'bundle'>, GitFlags {
  policy?: string[];
  bundle?: string[];
  artifactName?: string;
  output?: string;
  /** `--no-match-policy` (commander files a `--no-` option under the name without it). */
  matchPolicy?: string;
  record?: string;
  timeout?: string;
}

const TIMEOUT_HELP =
  "bound on the whole evaluation (registry, log, verification, conditions), like cosign's --timeout; past it a policy fails: a denial in enforce mode, a warning in warn mode";

function outputFormat(v: string | undefined): 'text' | 'json' {
  if (v === undefined || v === 'text') return 'text';
  if (v === 'json') return 'json';
  throw invalid('--output', `"${v}" is not text or json`);
}

/**
 * `policy verify` / `policy test`: the policy engine (client/policy) over a file and its bundles,
 * or over recorded inputs. The decision goes to stdout (text or JSON); a denial exits 1.
 */
export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description('decide who may sign what: apply ClusterImagePolicy files to artifacts');
  const verify = policy
    .command('verify')
    .description(
      'apply policies to an artifact: a file with its bundle(s) (--bundle), or an image in its registry; say which policy and authority decided',
    )
    .argument('[artifact]', 'the file (or give --digest), or an image reference')
    .option('--policy <file>', 'a policy file or folder (repeatable)', collect)
    .option('--bundle <file>', 'a Sigstore bundle for the file (repeatable)', collect)
    .option('--digest <sha256:hex>', 'the artifact by its digest instead of the file')
    .option('--artifact-name <name>', 'the name policies match with spec.blobs[].name')
    .option('--trusted-root <file>', 'trusted_root.json for authorities that name no trust root')
    .option('--server <url>', 'a Signet server to take that trusted root from (TUF)')
    .option('--tuf-root <file>', "pin the server's TUF root.json")
    .option(
      '--no-match-policy <action>',
      'an artifact no policy covers: allow, warn or deny',
      'deny',
    )
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--record <file>', 'also write the inputs as a case for `signet policy test`')
    .option(
      '--commits <range>',
      'git commits instead: every commit of a range (A..B) or one revision',
    )
    .option('--tag <tag>', 'git: an annotated tag instead')
    .option('--repo <dir>', 'git: the repository folder (default: here)')
    .option('--repository <name>', 'git: the name policies match (default: from the origin remote)')
    .option('--ref <ref>', 'git: the ref policies match (default: the full name of the range end)')
    .option('--offline', 'git: do not search the log for signatures made in gitsign online mode')
    .option('--timeout <duration>', TIMEOUT_HELP, '3m0s');
  addRegistryFlags(verify).action(
    async (artifact: string | undefined, flags: PolicyVerifyFlags & RegistryFlags) => {
      const format = outputFormat(flags.output);
      const deadline = Date.now() + parseDuration(flags.timeout ?? '3m0s', '--timeout');
      const p = await import('../../client/policy/index.ts');
      const noMatch = p.parseNoMatch(flags.matchPolicy, '--no-match-policy');
      const trust = await p.defaultTrust(trustFlags(flags));
      const policies = await p.policiesWithTrust(flags.policy ?? [], trust);
      const fs = process.getBuiltinModule('node:fs');
      // --record: every decision's case, written once all are made (one case, or a list).
      const cases: Record<string, unknown>[] = [];
      const record = (
        d: import('../../client/policy/index.ts').Decision,
        target: import('../../client/policy/index.ts').Target,
        material: import('../../client/policy/index.ts').RecordedMaterial,
      ) => {
        if (flags.record !== undefined)
          cases.push(p.recordCase(d.target, target, material, d, trust?.root));
      };
      const writeRecord = () => {
        if (flags.record === undefined) return;
        const json = cases.length === 1 ? cases[0] : cases;
        try {
          fs.writeFileSync(flags.record, `${JSON.stringify(json, null, 2)}\n`);
        } catch (e) {
          throw invalid('--record', describeWriteError(e, flags.record), e);
        }
      };
      if (flags.commits !== undefined || flags.tag !== undefined) {
        if (artifact !== undefined)
          throw invalid('--commits', 'give either an artifact or --commits / --tag, not both');
        const gathered: Array<{
          target: import('../../client/policy/index.ts').Target;
          g: import('../../client/policy/index.ts').ObjectGathered;
        }> = [];
        const ds = await decideGit(flags, policies, noMatch, trust, {
          deadline,
          gathered: (target, g) => gathered.push({ target, g }),
        });
        ds.forEach((d, i) =>
          record(d, gathered[i]!.target, { kind: 'git', gathered: gathered[i]!.g }),
        );
        writeRecord();
        report(ds, format, p);
        return;
      }
      const isImage =
        flags.bundle === undefined &&
        flags.digest === undefined &&
        artifact !== undefined &&
        !fs.existsSync(artifact);
      if (isImage) {
        let gathered:
          | Parameters<
              NonNullable<import('../../client/policy/index.ts').ImageDecisionOptions['gathered']>
            >[0]
          | undefined;
        // --timeout is the whole evaluation's deadline here, not a per-request one.
        const d = await p.decideImage(policies, artifact, {
          registry: registryOptions({ ...flags, timeout: undefined }),
          deadline,
          gathered: (g) => (gathered = g),
          ...(noMatch ? { noMatch } : {}),
        });
        if (gathered !== undefined) {
          const ref = p.parseImageReference(artifact, 'image');
          record(d, { kind: 'image', ref }, { kind: 'image', gathered });
        }
        writeRecord();
        report([d], format, p);
        return;
      }
      const opts: Parameters<typeof p.decideBlobFiles>[2] = {
        bundles: flags.bundle ?? [],
        deadline,
      };
      if (flags.digest !== undefined) opts.digest = flags.digest;
      if (flags.artifactName !== undefined) opts.artifactName = flags.artifactName;
      if (noMatch !== undefined) opts.noMatch = noMatch;
      const { decision, artifact: a, bundles } = await p.decideBlobFiles(policies, artifact, opts);
      record(decision, p.blobTarget(artifact, a, flags.artifactName), {
        kind: 'blob',
        digest: p.artifactDigestText(a),
        bundles,
      });
      writeRecord();
      report([decision], format, p);
    },
  );
  policy
    .command('test')
    .description(
      'apply policies to recorded inputs (cases written by `policy verify --record`) and check the expected decisions',
    )
    .argument('<case...>', 'recorded case files (JSON)')
    .option('--policy <file>', 'a policy file or folder (repeatable)', collect)
    .option('--trusted-root <file>', 'trusted_root.json for authorities that name no trust root')
    .option('--server <url>', 'a Signet server to take that trusted root from (TUF)')
    .option('--tuf-root <file>', "pin the server's TUF root.json")
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--timeout <duration>', TIMEOUT_HELP, '3m0s')
    .action(async (cases: string[], flags: PolicyVerifyFlags) => {
      const format = outputFormat(flags.output);
      const p = await import('../../client/policy/index.ts');
      const { readDocument } = await import('../../client/file-or-url.ts');
      const deadline = Date.now() + parseDuration(flags.timeout ?? '3m0s', '--timeout');
      const parsed: import('../../client/policy/index.ts').RecordedCase[] = [];
      for (const file of cases) {
        const json = parseJsonText(readDocument(file, 'case'), 'case', file);
        parsed.push(...(await p.parseRecordedCases(json, file)));
      }
      // The trust for authorities that name none: --trusted-root / --server when given (to test
      // a new root), else the root each case was recorded with. Policies load once per root.
      const given = await p.defaultTrust(trustFlags(flags));
      const loaded = new Map<string, import('../../client/policy/index.ts').Policy[]>();
      const policiesFor = async (c: (typeof parsed)[number]) => {
        const key = given || !c.trustedRoot ? '' : c.trustedRoot.key;
        let ps = loaded.get(key);
        if (!ps) {
          const trust =
            given ??
            (c.trustedRoot
              ? { root: c.trustedRoot.root, label: 'the recorded trusted root' }
              : undefined);
          ps = await p.policiesWithTrust(flags.policy ?? [], trust);
          loaded.set(key, ps);
        }
        return ps;
      };
      const results = [];
      for (const c of parsed)
        results.push({ c, d: await p.runRecordedCase(await policiesFor(c), c, deadline) });
      const failures = results.filter(
        ({ c, d }) => c.expect !== undefined && (c.expect === 'allow') !== d.allowed,
      );
      if (format === 'json')
        process.stdout.write(
          `${JSON.stringify(
            results.map(({ c, d }) => ({
              case: c.name,
              expect: c.expect ?? null,
              ok: c.expect === undefined || (c.expect === 'allow') === d.allowed,
              decision: p.decisionToJSON(d),
            })),
            null,
            2,
          )}\n`,
        );
      else
        for (const { c, d } of results) {
          const ok = c.expect === undefined || (c.expect === 'allow') === d.allowed;
          process.stdout.write(
            `${ok ? 'ok' : 'FAIL'} ${c.name}: ${d.allowed ? 'allowed' : 'denied'}${c.expect ? ` (expected ${c.expect})` : ''}\n${printableLines(p.decisionToText(d)).replace(/^/gm, '  ')}\n`,
          );
        }
      if (failures.length > 0)
        throw verificationFailed(
          'POLICY_TEST_FAILED',
          `${failures.length} of ${results.length} case${results.length === 1 ? '' : 's'} did not get the expected decision: ${failures.map((f) => f.c.name).join(', ')}`,
        );
    });
}

function report(
  decisions: import('../../client/policy/index.ts').Decision[],
  format: 'text' | 'json',
  p: typeof import('../../client/policy/index.ts'),
): void {
  // The text report lists each warning under its decision; JSON is for programs, so a person
  // watching the run reads the warnings on stderr (written once either way).
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(decisions.map(p.decisionToJSON), null, 2)}\n`);
    for (const d of decisions)
      for (const w of d.warnings) process.stderr.write(`warning: ${printable(w)}\n`);
  } else
    for (const d of decisions) process.stdout.write(`${printableLines(p.decisionToText(d))}\n`);
  const denied = decisions.filter((d) => !d.allowed);
  if (denied.length > 0)
    throw verificationFailed(
      'POLICY_DENIED',
      denied.map((d) => `${d.target}: ${d.errors.join('; ')}`).join(' | '),
    );
}

function trustFlags(f: Omit<VerifyFlags, 'bundle'>): VerifyFlags {
  const out: VerifyFlags = {};
  if (f.trustedRoot !== undefined) out.trustedRoot = f.trustedRoot;
  if (f.server !== undefined) out.server = f.server;
  if (f.tufRoot !== undefined) out.tufRoot = f.tufRoot;
  if (f.http !== undefined) out.http = f.http;
  return out;
}

/** `verify --policy` / `verify-attestation --policy`: the policies decide about the image. */
export async function verifyImageByPolicy(
  images: string[],
  flags: import('./verify.ts').ImageVerifyFlags & { policy: string[] },
  attestations: boolean,
): Promise<void> {
  const { refuseFlagsPoliciesReplace } = await import('../../client/policy/setup.ts');
  refuseFlagsPoliciesReplace(flags);
  if (attestations && flags.type !== undefined)
    throw invalid('--type', 'give either --type or --policy: the policy names the predicate types');
  if (flags.localImage !== undefined)
    throw invalid('--local-image', 'is not supported with --policy');
  if (images.length === 0) throw invalid('image', 'is required: the image to verify');
  const p = await import('../../client/policy/index.ts');
  const { registryOptions } = await import('../registry-flags.ts');
  const policies = await p.loadPolicySet(flags.policy, trustFlags(flags));
  const registry = registryOptions(flags);
  const platform = flags.platform === undefined ? undefined : await platformFlag(flags.platform);
  const decisions = [];
  for (const image of images)
    decisions.push(
      await p.decideImage(policies, await platformTarget(image, platform, registry), { registry }),
    );
  report(decisions, flags.output === 'text' ? 'text' : 'json', p);
}

/** What a policy decides about: the image named, or with --platform the index's image for it, by digest. */
async function platformTarget(
  image: string,
  platform: import('../../core/oci/platform.ts').Platform | undefined,
  registry: import('../../client/oci/registry.ts').RegistryOptions,
): Promise<string> {
  if (!platform) return image;
  const [{ resolvePlatform }, { formatReference }] = await Promise.all([
    import('../../client/oci/image.ts'),
    import('../../core/oci/reference.ts'),
  ]);
  return formatReference((await resolvePlatform(image, platform, { registry })).image.ref);
}

/** `policy verify --commits` and `verify-commit --policy`: one decision per commit. */
async function decideGit(
  flags: GitFlags & Omit<VerifyFlags, 'bundle'>,
  policies: import('../../client/policy/index.ts').Policy[],
  noMatch: import('../../client/policy/index.ts').NoMatchPolicy | undefined,
  trust: import('../../client/policy/index.ts').AuthorityTrust | undefined,
  more: Pick<
    import('../../client/policy/index.ts').CommitDecisionOptions,
    'revision' | 'deadline' | 'gathered'
  > = {},
) {
  const p = await import('../../client/policy/index.ts');
  const o: import('../../client/policy/index.ts').CommitDecisionOptions = {
    repoDir: flags.repo ?? process.cwd(),
    ...more,
  };
  if (flags.commits !== undefined) o.range = flags.commits;
  if (flags.tag !== undefined) o.tag = flags.tag;
  if (flags.repository !== undefined) o.repository = flags.repository;
  if (flags.ref !== undefined) o.ref = flags.ref;
  if (noMatch !== undefined) o.noMatch = noMatch;
  if (!flags.offline && trust) {
    const { rekorSearch } = await import('../../client/git/commits.ts');
    o.search = rekorSearch(
      trust.root,
      {
        // verify-commit --policy: its --timeout; policy verify: 30 s, under its deadline
        timeoutMs: flags.http?.timeoutMs ?? 30_000,
        ...(more.deadline !== undefined ? { deadline: more.deadline } : {}),
      },
      flags.server ? [`${flags.server.replace(/\/+$/, '')}/rekor`] : [],
    );
  }
  return p.decideCommits(policies, o);
}

/** `verify-commit --policy` / `verify-tag --policy`: the policies decide about each object. */
export async function verifyGitByPolicy(
  flags: GitFlags & Omit<VerifyFlags, 'bundle'> & { policy: string[]; range?: string },
  revision: string | undefined,
  tag?: string,
): Promise<void> {
  const p = await import('../../client/policy/index.ts');
  p.refuseFlagsPoliciesReplace(flags);
  const trust = await p.defaultTrust(trustFlags(flags));
  const policies = await p.policiesWithTrust(flags.policy, trust);
  const g: GitFlags & Omit<VerifyFlags, 'bundle'> = { ...flags };
  if (flags.range !== undefined) g.commits = flags.range;
  if (tag !== undefined) g.tag = tag;
  const ds = await decideGit(
    g,
    policies,
    undefined,
    trust,
    flags.range === undefined && tag === undefined ? { revision: revision ?? 'HEAD' } : {},
  );
  report(ds, 'text', p);
}
