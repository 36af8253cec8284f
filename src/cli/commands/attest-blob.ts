import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import {
  addSigningFlags,
  bundleChecker,
  checkBundleTarget,
  signingOptions,
  writeBundleOutput,
  type SigningFlags,
} from './sign-blob.ts';

interface AttestFlags extends SigningFlags {
  predicate?: string;
  type: string;
}

export function registerAttestBlob(program: Command): void {
  addSigningFlags(
    program
      .command('attest-blob')
      .description(
        'attest to a file: an in-toto Statement v1 (subject = the file name and sha256) with a predicate, signed in a DSSE envelope',
      )
      .argument('<file>', 'the file the attestation is about')
      .option(
        '--predicate <file>',
        'the predicate (JSON; text for spdx/cyclonedxxml; anything for custom)',
      )
      .option(
        '--type <type>',
        'predicate type: slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex, link, custom, or a URI',
        'custom',
      ),
  ).action(async (file: string, flags: AttestFlags) => {
    if (flags.predicate === undefined)
      throw invalid('--predicate', 'is required: the file holding the predicate');
    const path = await import('node:path');
    const { createHash } = await import('node:crypto');
    const sign = await import('../../client/sign/index.ts');
    const { buildStatement, INTOTO_PAYLOAD_TYPE } = await import('../../core/intoto/index.ts');
    const { serializeBundle } = await import('../../bundle/bundle.ts');
    const predicateType = sign.predicateTypeOf(flags.type);
    const artifact = sign.readFileBytes(file, 'file');
    const predicate = sign.predicateValue(
      flags.type,
      sign.readFileBytes(flags.predicate, '--predicate'),
      new Date(),
    );
    // cosign names the subject by the file's base name (attest_blob.go)
    const statement = buildStatement(
      [
        {
          name: path.basename(file),
          digest: { sha256: createHash('sha256').update(artifact).digest('hex') },
        },
      ],
      predicateType,
      predicate,
    );
    await checkBundleTarget(flags.bundle);
    const check = await bundleChecker(flags.trustedRoot);
    const ctx = await sign.setupSigning(await signingOptions(flags));
    const bundle = await sign.signEnvelope(statement, INTOTO_PAYLOAD_TYPE, ctx);
    await check(bundle, artifact, ctx.signer);
    await writeBundleOutput(serializeBundle(bundle), flags.bundle);
  });
}
