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
  statement?: string;
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
        '--statement <file>',
        'a complete in-toto statement to sign as it is (instead of --predicate/--type); one subject must be the file',
      )
      .option(
        '--type <type>',
        'predicate type: slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex, link, custom, or a URI',
        'custom',
      ),
  ).action(async (file: string, flags: AttestFlags) => {
    if (flags.predicate !== undefined && flags.statement !== undefined)
      throw invalid('--statement', 'give either --predicate or --statement, not both');
    if (flags.predicate === undefined && flags.statement === undefined)
      throw invalid(
        '--predicate',
        'is required: the file holding the predicate (or --statement FILE)',
      );
    const path = await import('node:path');
    const { createHash } = await import('node:crypto');
    const sign = await import('../../client/sign/index.ts');
    const intoto = await import('../../core/intoto/index.ts');
    const { serializeBundle } = await import('../../bundle/bundle.ts');
    const artifact = sign.readFileBytes(file, 'file');
    const sha256 = createHash('sha256').update(artifact).digest('hex');
    let statement: Uint8Array;
    if (flags.statement !== undefined) {
      // Signed byte for byte as given, after checking it is a statement about this file.
      statement = sign.readFileBytes(flags.statement, '--statement');
      const parsed = intoto.parseStatement(statement, '--statement');
      if (intoto.subjectsMatching(parsed, 'sha256', sha256).length === 0)
        throw invalid(
          '--statement',
          `no subject of the statement has the sha256 of ${file} (${sha256}): it is not about this file`,
        );
    } else {
      const predicateType = sign.predicateTypeOf(flags.type);
      const predicate = sign.predicateValue(
        flags.type,
        sign.readFileBytes(flags.predicate!, '--predicate'),
        new Date(),
      );
      // cosign names the subject by the file's base name (attest_blob.go)
      statement = intoto.buildStatement(
        [{ name: path.basename(file), digest: { sha256 } }],
        predicateType,
        predicate,
      );
    }
    await checkBundleTarget(flags.bundle);
    const check = await bundleChecker(flags.trustedRoot);
    const ctx = await sign.setupSigning(await signingOptions(flags));
    const bundle = await sign.signEnvelope(statement, intoto.INTOTO_PAYLOAD_TYPE, ctx);
    await check(bundle, { kind: 'bytes', data: artifact }, ctx.signer);
    await writeBundleOutput(serializeBundle(bundle), flags.bundle);
  });
}
