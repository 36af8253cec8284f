/**
 * `signet verify-commit-attestation [REV]`: what `verify-attestation` is for an image, for the
 * attestations `signet-gitsign attest` (or gitsign's attest) keeps about a commit or its tree
 * (client/git/verify-attestations.ts), with verify-commit's identity, trust and log flags.
 */
import type { Command } from 'commander';
import { addIdentityFlags, addTrustFlags } from '../trust-flags.ts';
import { timeoutOption } from '../flags.ts';
import { printable } from '../../core/encoding/printable.ts';
import type { GitVerifyFlags } from './verify-commit.ts';

interface AttestationFlags extends GitVerifyFlags {
  type?: string;
  objtype: string;
  output: string;
}

export function registerVerifyCommitAttestation(program: Command): void {
  addTrustFlags(
    addIdentityFlags(
      program
        .command('verify-commit-attestation')
        .description(
          'verify the in-toto attestations signet-gitsign attest keeps about a commit (or its tree): signer, log entry, and that each is about this commit',
        )
        .argument('[revision]', 'the commit (default HEAD)'),
    ),
    { git: true },
  )
    .addOption(timeoutOption())
    .option(
      '--type <type>',
      'predicate type required: slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, custom, ... or a URI (default: custom, as in cosign)',
    )
    .option(
      '--objtype <commit|tree>',
      "the attested object: the commit, or the commit's tree",
      'commit',
    )
    .option('-o, --output <format>', 'text, or json (the verified statements)', 'text')
    .option(
      '--insecure-ignore-sct',
      'accept a certificate without a certificate transparency SCT (as verify-commit)',
    )
    .option(
      '--offline',
      "do not search the log: only attestations kept with their bundle verify (signet-gitsign attest keeps one; gitsign's envelope alone needs the log's search)",
    )
    .action(async (rev: string | undefined, flags: AttestationFlags) => {
      const { invalid } = await import('../../core/errors.ts');
      if (flags.objtype !== 'commit' && flags.objtype !== 'tree')
        throw invalid('--objtype', `"${flags.objtype}" is not commit or tree`);
      if (flags.output !== 'json' && flags.output !== 'text')
        throw invalid('--output', `"${flags.output}" is not json or text`);
      const kind = flags.objtype;
      const { predicateTypeOf } = await import('../../client/sign/predicate.ts');
      // cosign's default type is custom: an attestation of another type needs --type.
      const predicateType = predicateTypeOf(flags.type ?? 'custom');
      const { requireRepository, gitVerifySetup, pointAtDeployment } =
        await import('./verify-commit.ts');
      await requireRepository('verify-commit-attestation');
      const { trustedRoot, policy, witnesses, search } = await gitVerifySetup(flags);
      const { verifyGitAttestations, staleBundleNote } =
        await import('../../client/git/verify-attestations.ts');
      const r = await verifyGitAttestations(process.cwd(), kind, rev ?? 'HEAD', {
        trustedRoot,
        policy,
        predicateType,
        ...(search ? { search } : {}),
        verify: {
          ...(witnesses ? { witnesses } : {}),
          ...(flags.insecureIgnoreSct ? { ctlogThreshold: 0 } : {}),
        },
      }).catch((e: unknown) => {
        throw pointAtDeployment(e);
      });
      const { resultReport, describeReport } = await import('../../client/verify/report.ts');
      if (flags.output === 'json')
        process.stdout.write(
          `${JSON.stringify(
            {
              [kind]: r.object,
              ref: r.ref,
              type: predicateType,
              found: r.found,
              tried: r.tried,
              valid: r.verified.length,
              verified: r.verified.map((v) => ({
                file: v.name,
                predicateType: v.statement.predicateType,
                ...resultReport(v.result),
                source: v.source,
                ...(v.staleBundle !== undefined ? { staleBundle: v.staleBundle } : {}),
                statement: v.statementJson,
              })),
              rejected: r.rejected.map((x) => ({ file: x.name, reason: x.reason })),
            },
            null,
            2,
          )}\n`,
        );
      else
        for (const v of r.verified)
          process.stdout.write(
            `${printable(`${v.name}: ${v.statement.predicateType} ${describeReport(resultReport(v.result))}`)}\n`,
          );
      for (const v of r.verified)
        if (v.staleBundle !== undefined)
          process.stderr.write(
            `${printable(`warning: ${v.name}: ${staleBundleNote(v.name)}; ${v.name}.sig verified ${v.source === 'log search' ? "through the log's search" : 'from the bundle it holds'}`)}\n`,
          );
      for (const x of r.rejected)
        process.stderr.write(`${printable(`warning: ${x.name}: ${x.reason}`)}\n`);
      const n = r.verified.length;
      process.stderr.write(
        `Verified OK: ${n} of ${r.tried} attestation${r.tried === 1 ? '' : 's'} of type ${predicateType} about ${kind} ${r.object}\n`,
      );
    });
}
