import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { addVerifyFlags, verifyFlagsFrom, type VerifyCliFlags } from '../trust-flags.ts';
import { addBool } from '../options.ts';
import {
  addRegistryFlags,
  collectAnnotation,
  parseAnnotations,
  platformFlag,
  registryOptions,
  verifyExitCode,
  type RegistryFlags,
} from '../registry-flags.ts';
import { reportError } from '../errors.ts';
import type { DetachedSignature } from '../../client/oci/detached.ts';
import type { RegistryOptions } from '../../client/oci/registry.ts';
import type { SignerPolicy } from '../../client/verify/verifier.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import { printable } from '../../core/encoding/printable.ts';

export interface ImageVerifyFlags extends VerifyCliFlags, RegistryFlags {
  checkClaims: boolean;
  attachment?: string;
  /** verify: the simple-signing payload of a detached --signature. */
  payload?: string;
  annotations?: string[];
  output: string;
  localImage?: string | boolean;
  type?: string;
  policy?: string[];
  platform?: string;
}

export function addImageVerifyFlags(cmd: Command): Command {
  addBool(
    cmd,
    'check-claims',
    "check that each signature is about the image's digest (false: the signature, signer and log only)",
    true,
  );
  return addRegistryFlags(addVerifyFlags(cmd))
    .option(
      '-a, --annotations <key=value>',
      'require this annotation on the signature (repeatable)',
      collectAnnotation,
    )
    .option('-o, --output <format>', 'json (the verified signatures on stdout) or text', 'json')
    .option(
      '--local-image [dir]',
      'verify an image saved as an OCI image layout in this folder (or the image argument)',
    )
    .option(
      '--platform <os/arch[/variant]>',
      'of a multi-platform index: verify the image for this platform, not the index',
    )
    .option(
      '--policy <file>',
      'decide by ClusterImagePolicy files instead of identity flags (repeatable; CUE and Rego are refused: conditions are CEL)',
      (v: string, all: string[] = []) => [...all, v],
    );
}

/**
 * verify and verify-attestation: the one path from flags to checkImage and the printout. Several
 * images (as cosign takes them) share the flags, the trust and the registry settings; each is
 * reported on its own, a failed one as `error: IMAGE: ...`, and the exit code is the first
 * failure's.
 */
export async function runImageVerify(
  images: string[],
  cli: ImageVerifyFlags,
  attestations: boolean,
): Promise<void> {
  try {
    // As for blobs: deprecated spellings mapped, SIGNET_SERVER applied, the unsupported refused.
    const flags: ImageVerifyFlags = { ...cli, ...verifyFlagsFrom(cli) };
    if (flags.attachment !== undefined)
      throw invalid(
        '--attachment',
        'verifying an attached SBOM is not supported (cosign deprecated it): verify the SBOM attestation with `verify-attestation --type spdxjson|cyclonedx`',
      );
    const fileOnly =
      "is for a file's signature (verify-blob): an image's signatures, certificates and log entries are read from its registry, its CA certificates from the trusted root";
    if (flags.bundle !== undefined) throw invalid('--bundle', fileOnly);
    if (flags.rfc3161Timestamp !== undefined) throw invalid('--rfc3161-timestamp', fileOnly);
    const detachedFlags = [
      ['--signature', flags.signature],
      ['--payload', flags.payload],
      ['--certificate', flags.certificate],
      ['--certificate-chain', flags.certificateChain],
    ] as const;
    for (const [flag, v] of detachedFlags) {
      if (v === undefined) continue;
      if (attestations) throw invalid(flag, fileOnly);
      if (flags.localImage !== undefined || images.length > 1)
        throw invalid(flag, 'a detached signature is verified against one image in its registry');
      if (flags.platform !== undefined)
        throw invalid(
          flag,
          "is verified against the image named: name the platform's image by its digest instead of --platform",
        );
      if (flags.signature === undefined)
        throw invalid(
          flag,
          "goes with --signature (a detached signature): an image's own signatures carry theirs",
        );
    }
    if (flags.output !== 'json' && flags.output !== 'text')
      throw invalid('--output', `"${flags.output}" is not json or text`);
    if (flags.policy) {
      const { verifyImageByPolicy } = await import('./policy.ts');
      await verifyImageByPolicy(images, { ...flags, policy: flags.policy }, attestations);
      return;
    }
    if (images.length > 1 && flags.localImage !== undefined)
      throw invalid('--local-image', 'verifies one image layout at a time');
    // `--local-image DIR IMAGE` would verify DIR and never look at IMAGE: a script passing
    // "$IMAGE" would pass for any image. The folder is named once, by the flag or (as cosign's
    // boolean --local-image takes it) by the argument.
    if (typeof flags.localImage === 'string' && images.length > 0)
      throw invalid(
        '--local-image',
        `names the layout folder "${flags.localImage}", so the image argument "${images[0]}" would not be verified: give the folder either as --local-image DIR or as the argument`,
      );
    if (images.length === 0 && flags.localImage === undefined)
      throw invalid('image', 'is required: the image to verify');
    const verifyOne = await imageVerifier(flags, attestations);
    if (images.length <= 1) {
      await verifyOne(images[0]);
      return;
    }
    const { reportErrorOf, finishEach } = await import('../errors.ts');
    const failures: unknown[] = [];
    for (const image of images)
      try {
        await verifyOne(image);
      } catch (e) {
        reportErrorOf(image, e);
        failures.push(e);
      }
    finishEach(failures, images.length, 'images did not verify');
  } catch (e) {
    reportError(e);
    process.exitCode = verifyExitCode(e);
  }
}

/**
 * Reads the flags and the trust once; the function it returns verifies one image (or the
 * --local-image layout) and prints what it found.
 */
async function imageVerifier(
  flags: ImageVerifyFlags,
  attestations: boolean,
): Promise<(image: string | undefined) => Promise<void>> {
  const { signerPolicy, loadTrustedRoot, witnessPolicy, verifyOptionsFrom, detachedNames } =
    await import('../../client/verify/setup.ts');
  // Only what verification needs (not the signing side): this is every start of `verify`.
  const [verify, report, { MAX_REFERRERS }] = await Promise.all([
    import('../../client/oci/verify.ts'),
    import('../../client/oci/report.ts'),
    import('../../client/oci/discover.ts'),
  ]);
  const registry = registryOptions(flags);
  // A --key URL is fetched within --timeout too.
  const policy = await signerPolicy(flags, registry.http ? { http: registry.http } : {});
  const annotations = parseAnnotations(flags.annotations);
  let predicateType: string | undefined;
  if (attestations) {
    // cosign's default type is custom: an attestation of another type needs --type.
    const { predicateTypeOf } = await import('../../client/sign/predicate.ts');
    predicateType = predicateTypeOf(flags.type ?? 'custom');
  }
  const witnesses = await witnessPolicy(flags);
  // What the summary line says was checked: only what was (cosign lists its checks too).
  const checked = [
    ...(flags.insecureIgnoreTlog ? [] : ['transparency log inclusion']),
    policy.kind === 'key' ? "the signer's key" : 'certificate chain and identity',
    ...(annotations ? ['annotations'] : []),
  ].join(', ');
  const trustedRoot = await loadTrustedRoot(flags);
  const platform = flags.platform === undefined ? undefined : await platformFlag(flags.platform);
  return async (image) => {
    let source;
    let ref: string;
    if (flags.localImage !== undefined) {
      const dir = typeof flags.localImage === 'string' ? flags.localImage : image;
      if (dir === undefined) throw invalid('--local-image', 'names no folder');
      const { LocalLayout } = await import('../../client/oci/layout.ts');
      source = new LocalLayout(dir);
      const m = await source.image();
      ref = `local/image@${m.digest.text}`;
    } else {
      ref = image!;
    }
    const r = await verify.verifyImage(ref, {
      ...(flags.signature !== undefined
        ? { detached: await detachedParts(flags, ref, { policy, trustedRoot, registry }) }
        : {}),
      // --insecure-ignore-tlog, --insecure-ignore-sct, --use-signed-timestamps, as for a blob.
      verify: (bundle) => ({
        ...verifyOptionsFrom(flags, bundle),
        ...(flags.signature !== undefined ? { names: detachedNames(flags) } : {}),
        ...(flags.checkClaims ? {} : { checkClaims: false }),
        ...(witnesses ? { witnesses } : {}),
      }),
      trustedRoot,
      policy,
      registry,
      attestations,
      ...(annotations ? { annotations } : {}),
      ...(predicateType !== undefined ? { predicateType } : {}),
      ...(source ? { source } : {}),
      ...(platform ? { platform } : {}),
    });
    const name =
      flags.localImage !== undefined
        ? (source?.name ?? ref)
        : `${r.image.ref.registry}/${r.image.ref.repository}@${r.image.digest.text}`;
    for (const x of r.rejected)
      process.stderr.write(`warning: skipped ${x.location}: ${x.reason}\n`);
    if (r.skipped > 0)
      process.stderr.write(
        `warning: ${r.skipped} more referrers were not examined (at most ${MAX_REFERRERS} are)\n`,
      );
    process.stderr.write(
      `Verification for ${name} --\n${r.found} ${attestations ? 'attestation' : 'signature'}${r.found === 1 ? '' : 's'} found, ${r.tried} tried, ${r.verified.length} valid (${checked} checked for each valid one)\n`,
    );
    if (flags.output === 'text')
      for (const v of r.verified)
        process.stdout.write(`${printable(report.describeAttachment(v))}\n`);
    else process.stdout.write(`${JSON.stringify(report.verificationReport(r), null, 2)}\n`);
  };
}

/**
 * cosign verify's detached inputs: --signature (a file, or the base64 text), --payload (else the
 * payload `signet generate` prints), --certificate and --certificate-chain; each but the text may
 * be an http(s) URL or env://VAR, as cosign reads them.
 */
async function detachedParts(
  flags: ImageVerifyFlags,
  image: string,
  trust: { policy: SignerPolicy; trustedRoot: TrustedRoot; registry: RegistryOptions },
): Promise<DetachedSignature> {
  const { readFileBytes } = await import('../../client/sign/setup.ts');
  const { displayName, isReference, loadFileOrUrl } = await import('../../client/file-or-url.ts');
  const fs = process.getBuiltinModule('node:fs');
  const http = trust.registry.http;
  const file = async (value: string | undefined, flag: string) =>
    value === undefined
      ? undefined
      : {
          name: displayName(value),
          bytes: await loadFileOrUrl(value, flag, {
            readFile: (f) => readFileBytes(f, flag),
            ...(http ? { http } : {}),
          }),
        };
  const sig = flags.signature!;
  const signature =
    isReference(sig) || fs.existsSync(sig)
      ? (await file(sig, '--signature'))!
      : { name: '(text)', bytes: new TextEncoder().encode(sig) };
  const parts: DetachedSignature = { signature };
  const payload = await file(flags.payload, '--payload');
  const certificate = await file(flags.certificate, '--certificate');
  const chain = await file(flags.certificateChain, '--certificate-chain');
  if (payload) parts.payload = payload;
  if (certificate) parts.certificate = certificate;
  if (chain) parts.chain = chain;
  if (!flags.insecureIgnoreTlog) {
    const [{ aboutImage, resolveImage }, { detachedLogEntry }] = await Promise.all([
      import('../../client/oci/image.ts'),
      import('../../client/oci/detached.ts'),
    ]);
    const resolved = await resolveImage(image, { registry: trust.registry });
    // A failure names the image, as every other image failure does.
    parts.rekorResponse = await detachedLogEntry(
      resolved,
      parts,
      trust.policy,
      trust.trustedRoot,
      flags,
    ).catch((e: unknown) => {
      throw aboutImage(image, e);
    });
  }
  return parts;
}

export function registerVerify(program: Command): void {
  addImageVerifyFlags(
    program
      .command('verify')
      .description(
        'verify the signatures of a container image (OCI referrers and legacy .sig), as cosign verify does',
      )
      .argument(
        '[images...]',
        'the image: registry/repository@sha256:... or :tag (several: each in turn)',
      )
      .option(
        '--payload <file|url>',
        'with --signature: the signed simple-signing payload (default: the one `signet generate` prints)',
      )
      .option('--attachment <type>', 'refused: attached SBOMs are not verified'),
  ).action(async (images: string[], flags: ImageVerifyFlags) => {
    await runImageVerify(images, flags, false);
  });
}

export function registerVerifyAttestation(program: Command): void {
  addImageVerifyFlags(
    program
      .command('verify-attestation')
      .description(
        'verify the in-toto attestations of a container image and print the verified statements',
      )
      .argument(
        '[images...]',
        'the image: registry/repository@sha256:... or :tag (several: each in turn)',
      )
      .option(
        '--type <type>',
        'predicate type required: slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, custom, ... or a URI (default: custom, as in cosign)',
      ),
  ).action(async (images: string[], flags: ImageVerifyFlags) => {
    await runImageVerify(images, flags, true);
  });
}
