import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { bundleChecker, checkBundleTarget, signingOptions } from './sign-blob.ts';
import {
  addImageWriteFlags,
  refuseOutputsForMany,
  imageToWrite,
  uploadFlag,
  imageArtifact,
  writeImageOutputs,
  writeMode,
  type ImageSigningFlags,
} from './sign.ts';
import { platformFlag, registryOptions } from '../registry-flags.ts';

interface AttestFlags extends ImageSigningFlags {
  predicate?: string;
  statement?: string;
  type: string;
  replace?: boolean;
  rekorEntryType: string;
}

export function registerAttest(program: Command): void {
  addImageWriteFlags(
    program
      .command('attest')
      .description(
        'attest to a container image: an in-toto statement about its digest, signed and attached to it',
      )
      .argument(
        '<images...>',
        'the image: registry/repository@sha256:... (or :tag); several are attested with one certificate',
      )
      .option(
        '--predicate <file>',
        'the predicate (JSON; text for spdx/cyclonedxxml; anything for custom)',
      )
      .option(
        '--statement <file>',
        'a complete in-toto statement to sign as it is; one subject must be the image digest',
      )
      .option(
        '--type <type>',
        'predicate type: slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex, link, custom, or a URI',
        'custom',
      )
      .option('--no-upload', 'same as --upload=false (cosign attest)')
      .option(
        '--replace',
        'legacy: the attestation replaces those of its predicate type on the .att tag (a referrer is always added)',
      )
      .option(
        '--rekor-entry-type <type>',
        'the log entry kind: dsse (intoto is refused: Signet logs DSSE entries, as cosign v3 does)',
        'dsse',
      ),
  ).action(async (images: string[], flags: AttestFlags) => {
    if (flags.rekorEntryType !== 'dsse')
      throw invalid(
        '--rekor-entry-type',
        flags.rekorEntryType === 'intoto'
          ? 'intoto entries are not written: the attestation is logged as a dsse entry, as cosign v3 does (leave the flag out)'
          : `"${flags.rekorEntryType}" is not dsse or intoto`,
      );
    if (flags.predicate !== undefined && flags.statement !== undefined)
      throw invalid('--statement', 'give either --predicate or --statement, not both');
    if (flags.predicate === undefined && flags.statement === undefined)
      throw invalid(
        '--predicate',
        'is required: the file holding the predicate (or --statement FILE)',
      );
    const upload = uploadFlag(flags);
    const mode = writeMode(flags);
    if (flags.replace && mode !== 'legacy')
      process.stderr.write(
        'warning: --replace has no effect on OCI 1.1 referrers (as in cosign): the attestation is added beside the others of its type; verify-attestation checks each\n',
      );
    refuseOutputsForMany(
      flags,
      images.length,
      `with ${images.length} images the attestations go to the registry`,
    );
    if (!upload && flags.bundle === undefined)
      throw invalid('--upload', 'false needs --bundle FILE: the attestation has to go somewhere');
    const sign = await import('../../client/sign/index.ts');
    const input: { statement?: Uint8Array; predicateType?: string; predicate?: unknown } = {};
    if (flags.statement !== undefined)
      input.statement = sign.readFileBytes(flags.statement, '--statement');
    else {
      input.predicateType = sign.predicateTypeOf(flags.type);
      input.predicate = sign.predicateValue(
        flags.type,
        sign.readFileBytes(flags.predicate!, '--predicate'),
        new Date(),
        flags.predicate,
      );
    }
    const registry = registryOptions(flags);
    const platform = flags.platform === undefined ? undefined : await platformFlag(flags.platform);
    await checkBundleTarget(flags.bundle);
    const oci = await import('../../client/oci/index.ts');
    // Every image is resolved, and a --statement checked against it, before anything is signed.
    const all = [];
    for (const image of images) {
      const resolved = await imageToWrite(image, platform, registry);
      oci.attestationStatement(resolved, input); // a --statement about another image fails here
      all.push(resolved);
    }
    const { stdinFree } = await import('../../client/many-files.ts');
    const check = await bundleChecker(flags.trustedRoot, 'pushed');
    const ctx = await sign.setupSigning({
      ...(await signingOptions(flags)),
      passphraseFromStdin: stdinFree(flags.predicate, flags.statement),
      checkServices: (services) => oci.checkReferrersMode(mode, services),
    });
    await check.certificate(ctx.signer);
    for (const resolved of all) {
      const r = await oci.attestResolved(resolved, input, ctx, {
        mode,
        upload,
        registry,
        recordCreationTimestamp: flags.recordCreationTimestamp,
        ...(flags.replace ? { replace: true } : {}),
        onSigned: async (img, bundle, payload) => {
          await check.bundle(bundle, imageArtifact(img, bundle, payload), ctx.signer);
          await writeImageOutputs(bundle, payload, flags);
        },
      });
      if (r.stored)
        process.stderr.write(
          `Pushing attestation to: ${oci.attachmentsOf(resolved.ref, registry).name} (${mode === 'legacy' ? `tag ${r.stored}` : `referrer ${r.stored}`}) for ${resolved.digest.text}\n`,
        );
    }
  });
}
