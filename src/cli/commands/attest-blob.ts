import type { Command } from 'commander';
import { describeWriteError, invalid } from '../../core/errors.ts';
import type { Artifact } from '../../client/verify/verifier.ts';
import { deprecate } from '../options.ts';
import { toHex } from '../../core/encoding/hex.ts';
import {
  addSigningFlags,
  bundleChecker,
  checkBundleTarget,
  signingOptions,
  writeBundleOutput,
  writeDetachedOutputs,
  checkDetachedTargets,
  type SigningFlags,
} from './sign-blob.ts';

interface AttestFlags extends SigningFlags {
  predicate?: string;
  statement?: string;
  type: string;
  hash?: string;
  rekorEntryType: string;
  outputAttestation?: string;
  rfc3161TimestampBundle?: string;
  upload: boolean;
}

export function registerAttestBlob(program: Command): void {
  const cmd = addSigningFlags(
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
      )
      .option(
        '--hash <hex>',
        "the file's sha256 in hex, to attest to a file stored elsewhere (the file is then not read)",
      )
      .option('--rekor-entry-type <type>', 'Rekor v1 entry type for the envelope (dsse)', 'dsse')
      .option('--output-attestation <file>', 'also write the signed envelope (JSON) to this file')
      .option('--rfc3161-timestamp-bundle <file>', 'same as --rfc3161-timestamp')
      .option(
        '--no-upload',
        'accepted for cosign compatibility: a blob has no registry to upload to',
      ),
  );
  deprecate(
    cmd,
    'rekor-entry-type',
    'support for this flag will be removed in the future. it is strongly discouraged to rely on Rekor for attestation storage, and in future releases of Rekor, this functionality will be removed.',
  );
  deprecate(
    cmd,
    'output-attestation',
    'please use --bundle to provide the output bundle location, which will include the attestation',
  );
  deprecate(
    cmd,
    'rfc3161-timestamp-bundle',
    'please use --bundle to provide the output bundle location, which will include the signed timestamp',
  );
  cmd.action(async (file: string, flags: AttestFlags) => {
    if (flags.rekorEntryType !== 'dsse')
      throw invalid(
        '--rekor-entry-type',
        flags.rekorEntryType === 'intoto'
          ? 'intoto entries are not written by signet (Rekor v2 has none); use dsse, which every verifier reads'
          : `"${flags.rekorEntryType}" is not dsse or intoto`,
      );
    if (flags.rfc3161TimestampBundle !== undefined)
      flags.rfc3161Timestamp ??= flags.rfc3161TimestampBundle;
    if (flags.predicate !== undefined && flags.statement !== undefined)
      throw invalid('--statement', 'give either --predicate or --statement, not both');
    if (flags.predicate === undefined && flags.statement === undefined)
      throw invalid(
        '--predicate',
        'is required: the file holding the predicate (or --statement FILE)',
      );
    const path = await import('node:path');
    const sign = await import('../../client/sign/index.ts');
    const intoto = await import('../../core/intoto/index.ts');
    const { serializeBundle } = await import('../../bundle/bundle.ts');
    let sha256: string;
    let artifact: Artifact;
    if (flags.hash !== undefined) {
      if (!/^[0-9a-fA-F]{64}$/.test(flags.hash))
        throw invalid('--hash', `"${flags.hash}" is not a sha256 in hex (64 hex digits)`);
      sha256 = flags.hash.toLowerCase();
      artifact = {
        kind: 'digest',
        algorithm: 'sha256',
        digest: new Uint8Array(Buffer.from(sha256, 'hex')),
      };
    } else {
      // The statement needs only the sha256: hashed as it is read, a file or standard input
      // of any size takes constant memory.
      const { digestFile } = await import('../../client/read-or-hash.ts');
      const digest = digestFile(file, 'sha256', 'file');
      sha256 = toHex(digest);
      artifact = { kind: 'digest', algorithm: 'sha256', digest };
    }
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
        flags.predicate,
      );
      // cosign names the subject by the file's base name (attest_blob.go)
      statement = intoto.buildStatement(
        [{ name: path.basename(file), digest: { sha256 } }],
        predicateType,
        predicate,
      );
    }
    await checkBundleTarget(flags.bundle, file);
    checkDetachedTargets(flags);
    const check = await bundleChecker(flags.trustedRoot);
    const { stdinFree } = await import('../../client/many-files.ts');
    const ctx = await sign.setupSigning({
      ...(await signingOptions(flags)),
      passphraseFromStdin: stdinFree(file, flags.predicate, flags.statement),
    });
    await check.certificate(ctx.signer);
    const bundle = await sign.signEnvelope(statement, intoto.INTOTO_PAYLOAD_TYPE, ctx);
    await check.bundle(bundle, artifact, ctx.signer);
    await writeBundleOutput(serializeBundle(bundle), flags.bundle);
    await writeDetachedOutputs(bundle, flags);
    if (flags.outputAttestation !== undefined && bundle.content.$case === 'dsseEnvelope') {
      const fs = process.getBuiltinModule('node:fs');
      const { envelopeToJSON } = await import('../../core/dsse/index.ts');
      try {
        fs.writeFileSync(
          flags.outputAttestation,
          JSON.stringify(envelopeToJSON(bundle.content.dsseEnvelope)),
        );
      } catch (e) {
        throw invalid('--output-attestation', describeWriteError(e, flags.outputAttestation), e);
      }
    }
  });
}
