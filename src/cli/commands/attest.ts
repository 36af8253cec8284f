import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { checkBundleTarget, signingOptions, writeBundleOutput } from './sign-blob.ts';
import { addImageWriteFlags, warnTag, writeMode, type ImageSigningFlags } from './sign.ts';
import { parseBool, registryOptions } from '../registry-flags.ts';

interface AttestFlags extends ImageSigningFlags {
  predicate?: string;
  statement?: string;
  type: string;
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
      ),
  ).action(async (images: string[], flags: AttestFlags) => {
    if (flags.predicate !== undefined && flags.statement !== undefined)
      throw invalid('--statement', 'give either --predicate or --statement, not both');
    if (flags.predicate === undefined && flags.statement === undefined)
      throw invalid(
        '--predicate',
        'is required: the file holding the predicate (or --statement FILE)',
      );
    const upload = parseBool(flags.upload, '--upload');
    const mode = writeMode(flags);
    if (images.length > 1 && flags.bundle !== undefined)
      throw invalid(
        '--bundle',
        `names one image's bundle; with ${images.length} images the attestations go to the registry`,
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
      );
    }
    const registry = registryOptions(flags);
    await checkBundleTarget(flags.bundle);
    const oci = await import('../../client/oci/index.ts');
    const { serializeBundle } = await import('../../bundle/bundle.ts');
    // Every image is resolved, and a --statement checked against it, before anything is signed.
    const all = [];
    for (const image of images) {
      const resolved = await oci.resolveImage(image, { registry });
      warnTag(image, resolved);
      oci.attestationStatement(resolved, input); // a --statement about another image fails here
      all.push(resolved);
    }
    const ctx = await sign.setupSigning(await signingOptions(flags));
    for (const resolved of all) {
      const r = await oci.attestResolved(resolved, input, ctx, {
        mode,
        upload,
        registry,
        onSigned: async (_img, bundle) => {
          if (flags.bundle !== undefined)
            await writeBundleOutput(serializeBundle(bundle), flags.bundle);
        },
      });
      if (r.stored)
        process.stderr.write(
          `Pushing attestation to: ${resolved.ref.registry}/${resolved.ref.repository} (${mode === 'legacy' ? `tag ${r.stored}` : `referrer ${r.stored}`})\n`,
        );
    }
  });
}
