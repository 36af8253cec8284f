import type { Command } from 'commander';
import { addVerifyFlags, verifyFlagsFrom } from '../trust-flags.ts';
import { invalid } from '../../core/errors.ts';
import { verifyFromFlags } from '../../client/verify/setup.ts';
import { addBool } from '../options.ts';
import { describeResult, verifyByPolicy, type PolicyFlags } from './verify-blob.ts';

export function registerVerifyBlobAttestation(program: Command): void {
  const cmd = addVerifyFlags(
    program
      .command('verify-blob-attestation')
      .description(
        'verify an in-toto attestation (DSSE bundle) about a file: signer, log, and that the file is its subject',
      )
      .argument('[artifact]', 'the file the attestation is about (or give --digest)'),
  )
    .option('--digest <hex>', 'the artifact by its digest (sha256:<hex>, or hex with --digestAlg)')
    .option(
      '--digestAlg <alg>',
      'the algorithm of --digest given as bare hex (sha256, sha384, sha512)',
    )
    .option(
      '--type <type>',
      'predicate type the attestation must have: slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, custom, ... or a URI (default: custom, as in cosign)',
    )
    .option(
      '--policy <file>',
      'decide by policy files (ClusterImagePolicy) instead of identity flags (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--artifact-name <name>', 'the name policies match with spec.blobs[].name');
  addBool(
    cmd,
    'check-claims',
    'check that the artifact is a subject of the statement (false: only the envelope signature and log)',
    true,
  );
  cmd.action(
    async (
      artifact: string | undefined,
      cli: PolicyFlags & { type?: string; checkClaims: boolean },
    ) => {
      const flags = { ...cli, ...verifyFlagsFrom(cli) };
      if (flags.policy) {
        if (flags.type !== undefined)
          throw invalid(
            '--type',
            'give either --type or --policy: the policy names the predicate types',
          );
        await verifyByPolicy(artifact, { ...flags, policy: flags.policy }, { attestation: true });
        return;
      }
      const opts: { attestation: boolean; predicateType?: string; checkClaims: boolean } = {
        attestation: true,
        checkClaims: flags.checkClaims,
      };
      // cosign's default type is custom: an attestation of another type needs --type.
      const { predicateTypeOf } = await import('../../client/sign/predicate.ts');
      opts.predicateType = predicateTypeOf(flags.type ?? 'custom');
      const r = await verifyFromFlags(artifact, flags, opts);
      console.error(
        `Verified OK: attestation of type ${r.statement?.predicateType ?? '?'} ${describeResult(r)}`,
      );
    },
  );
}
