import type { Command } from 'commander';
import { invalid, SignetError } from '../../core/errors.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { Signer } from '../../client/sign/signer.ts';
import type { SignSetupOptions } from '../../client/sign/setup.ts';
import type { Artifact } from '../../client/verify/verifier.ts';

/** Flags shared by sign-blob and attest-blob (cosign's names). */
export interface SigningFlags {
  bundle?: string;
  key?: string;
  identityToken?: string;
  oidcIssuer?: string;
  oidcClientId?: string;
  signingConfig?: string;
  server?: string;
  rekorVersion?: string;
  tufRoot?: string;
  trustedRoot?: string;
  useRekorV2?: boolean;
  tlogUpload: string;
  timeout?: string;
  yes?: boolean;
}

export function addSigningFlags(cmd: Command): Command {
  return cmd
    .option('--bundle <file>', 'write the Sigstore bundle here (default: print it on stdout)')
    .option(
      '--key <file>',
      'sign with this private key (cosign.key, PKCS#8 or SEC1 PEM) instead of keyless',
    )
    .option(
      '--identity-token <jwt>',
      'OIDC identity token for keyless signing (env SIGSTORE_ID_TOKEN)',
    )
    .option('--oidc-issuer <url>', 'identity provider to sign in with when no token is given')
    .option('--oidc-client-id <id>', 'OAuth client id for that sign-in', 'sigstore')
    .option('--signing-config <file>', 'signing_config.json naming the CA, logs and TSAs to use')
    .option(
      '--server <url>',
      'a Signet stack: use its signing config (env SIGNET_SERVER)',
      process.env.SIGNET_SERVER,
    )
    .option('--tuf-root <file>', "pin the server's TUF root.json (otherwise trusted on first use)")
    .option(
      '--trusted-root <file>',
      'verify the new bundle against this trusted_root.json before writing it',
    )
    .option('--rekor-version <n>', 'only use transparency logs with this API version (1 or 2)')
    .option('--use-rekor-v2', 'same as --rekor-version 2')
    .option('--tlog-upload <bool>', 'write a transparency log entry (true|false)', 'true')
    .option('--timeout <seconds>', 'deadline for each request to a service', '30')
    .option(
      '-y, --yes',
      'do not ask for confirmation (signet never asks; accepted for cosign compatibility)',
    );
}

/** Turn the flags into setupSigning options (validated here: they are untrusted input). */
export async function signingOptions(f: SigningFlags) {
  const { tufCacheDir } = await import('../../client/verify/setup.ts');
  let rekorVersion: 1 | 2 | undefined;
  if (f.useRekorV2) rekorVersion = 2;
  if (f.rekorVersion !== undefined) {
    if (f.rekorVersion !== '1' && f.rekorVersion !== '2')
      throw invalid('--rekor-version', `"${f.rekorVersion}" is not 1 or 2`);
    rekorVersion = Number(f.rekorVersion) as 1 | 2;
  }
  if (f.tlogUpload !== 'true' && f.tlogUpload !== 'false')
    throw invalid('--tlog-upload', `"${f.tlogUpload}" is not true or false`);
  const seconds = Number(f.timeout ?? '30');
  if (!/^\d+(\.\d+)?$/.test(f.timeout ?? '30') || seconds <= 0)
    throw invalid('--timeout', `"${f.timeout}" is not a positive number of seconds`);
  return {
    key: f.key,
    identityToken: f.identityToken,
    oidcIssuer: f.oidcIssuer,
    oidcClientId: f.oidcClientId,
    signingConfig: f.signingConfig,
    // an explicit --signing-config wins over SIGNET_SERVER from the environment
    server:
      f.signingConfig !== undefined && f.server === process.env.SIGNET_SERVER
        ? undefined
        : f.server,
    tufCacheDir: tufCacheDir(),
    tufRoot: f.tufRoot,
    rekorVersion,
    tlogUpload: f.tlogUpload === 'true',
    http: { timeoutMs: seconds * 1000 },
    onEvent: (m: string) => process.stderr.write(`${m}\n`),
  };
}

/**
 * With --trusted-root: the new bundle must verify against it before it is written. The file
 * is read before signing, so a typo fails before anything is logged.
 */
export async function bundleChecker(
  trustedRoot: string | undefined,
): Promise<(bundle: Bundle, artifact: Artifact, signer: Signer) => Promise<void>> {
  if (trustedRoot === undefined) return async () => {};
  const { readText, checkNewBundle } = await import('../../client/sign/index.ts');
  const text = readText(trustedRoot, '--trusted-root');
  return async (bundle, artifact, signer) => {
    try {
      await checkNewBundle(bundle, artifact, text, trustedRoot, signer);
    } catch (e) {
      throw new SignetError(
        'verification',
        'NEW_BUNDLE_UNVERIFIED',
        `the new bundle does not verify against ${trustedRoot}, so it was not written: ${(e as Error).message}`,
        { cause: e },
      );
    }
  };
}

/** Before signing: the bundle's folder must exist, so nothing is logged for a bundle we cannot write. */
export async function checkBundleTarget(file: string | undefined): Promise<void> {
  if (file === undefined) return;
  const fs = await import('node:fs');
  const path = await import('node:path');
  const dir = path.dirname(path.resolve(file));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw invalid('--bundle', `cannot write ${file}: folder ${dir} does not exist`);
}

/** Write the bundle to --bundle (all or nothing) or print it on stdout. */
export async function writeBundleOutput(json: string, file: string | undefined): Promise<void> {
  if (file === undefined) {
    process.stdout.write(`${json}\n`);
    return;
  }
  const fs = await import('node:fs');
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, json);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing to clean up
    }
    throw invalid('--bundle', `cannot write ${file}: ${(e as Error).message}`, e);
  }
  process.stderr.write(`Wrote bundle to file ${file}\n`);
}

export function registerSignBlob(program: Command): void {
  addSigningFlags(
    program
      .command('sign-blob')
      .description(
        'sign a file: keyless (identity token + CA certificate) or with --key; writes a Sigstore bundle',
      )
      .argument('<file>', 'the file to sign'),
  ).action(async (file: string, flags: SigningFlags) => {
    await signFileToBundle(file, flags, () => signingOptions(flags));
  });
}

/**
 * sign-blob and sign-bundle: the file, the bundle's folder and the trusted root are checked
 * before anything is signed or logged (`options` is read after them, so flag errors come in
 * that order); then sign, check the new bundle, and write it.
 */
export async function signFileToBundle(
  file: string,
  out: { bundle?: string | undefined; trustedRoot?: string | undefined },
  options: () => Promise<SignSetupOptions>,
): Promise<void> {
  // Loaded only when the command runs, so other commands start fast.
  const { setupSigning, checkReadableFile, signFile } = await import('../../client/sign/index.ts');
  const { serializeBundle } = await import('../../bundle/bundle.ts');
  checkReadableFile(file, 'file');
  await checkBundleTarget(out.bundle);
  const check = await bundleChecker(out.trustedRoot);
  const ctx = await setupSigning(await options());
  const { bundle, artifact } = await signFile(file, ctx);
  await check(bundle, artifact, ctx.signer);
  await writeBundleOutput(serializeBundle(bundle), out.bundle);
}
