import type { Command } from 'commander';
import {
  describeSystemError,
  describeWriteError,
  invalid,
  missingFolder,
  SignetError,
} from '../../core/errors.ts';
import { addBool, deprecate, refuseKeyReference, serverFrom, serverOption } from '../options.ts';
import { requestTimeout, timeoutOption } from '../flags.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { Signer } from '../../client/sign/signer.ts';
import type { SignSetupOptions } from '../../client/sign/setup.ts';
import type { Artifact } from '../../client/verify/verifier.ts';
import { ownEntry } from '../../core/own.ts';

/** Flags shared by sign-blob and attest-blob (cosign's names, camel-cased). */
export interface SigningFlags {
  bundle?: string;
  key?: string;
  identityToken?: string;
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecretFile?: string;
  oidcRedirectUrl?: string;
  oidcProvider?: string;
  oidcDisableAmbientProviders?: boolean;
  fulcioAuthFlow?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  timestampServerUrl?: string;
  timestampClientCacert?: string;
  timestampClientCert?: string;
  timestampClientKey?: string;
  timestampServerName?: string;
  signingConfig?: string;
  useSigningConfig: boolean;
  server?: string;
  rekorVersion?: string;
  tufRoot?: string;
  trustedRoot?: string;
  useRekorV2?: boolean;
  tlogUpload: boolean;
  timeout?: string;
  yes?: boolean;
  offline?: boolean;
  certificate?: string;
  certificateChain?: string;
  outputSignature?: string;
  output?: string;
  outputCertificate?: string;
  rfc3161Timestamp?: string;
  issueCertificate?: boolean;
  signingAlgorithm?: string;
  sk?: boolean;
  slot?: string;
  b64: boolean;
  newBundleFormat: boolean;
  insecureSkipVerify?: boolean;
}

/** The one key type a keyless signature is made with (cosign's default). */
const SIGNING_ALGORITHMS = ['ecdsa-sha2-256-nistp256'];

export function addSigningFlags(cmd: Command): Command {
  cmd
    .option('--bundle <file>', 'write the Sigstore bundle here (default: print it on stdout)')
    .option(
      '--key <file|url>',
      'sign with this private key (cosign.key, PKCS#8 or SEC1 PEM; a file, an http(s) URL or env://VAR) instead of keyless',
    )
    .option(
      '--certificate <file>',
      'with --key: a certificate for that key (PEM), put in the bundle instead of a key hint',
    )
    .option(
      '--certificate-chain <file>',
      'with --certificate: the CA chain (PEM; not put in a v0.3 bundle)',
    )
    .option(
      '--identity-token <jwt>',
      'OIDC identity token (or a file holding it) for keyless signing (env SIGSTORE_ID_TOKEN)',
    )
    .option('--oidc-issuer <url>', 'identity provider to sign in with when no token is given')
    .option('--oidc-client-id <id>', 'OAuth client id for that sign-in', 'sigstore')
    .option('--oidc-client-secret-file <file>', 'a file holding the OAuth client secret')
    .option(
      '--oidc-redirect-url <url>',
      'loopback redirect for the browser sign-in (default http://127.0.0.1:0/auth/callback)',
    )
    .option(
      '--oidc-provider <name>',
      'take the token only from: github-actions, buildkite-agent, filesystem, interactive',
    )
    .option(
      '--fulcio-auth-flow <flow>',
      'sign-in flow: normal (browser), device, token (no sign-in)',
    )
    .option(
      '--fulcio-url <url>',
      "the certificate authority to use (instead of the signing config's)",
    )
    .option('--rekor-url <url>', 'the transparency log (Rekor v1 API) to use')
    .option('--timestamp-server-url <url>', 'an RFC 3161 timestamp authority to use')
    .option(
      '--timestamp-client-cacert <file>',
      "CA certificates (PEM) the TSA's TLS certificate must chain to, in place of the system's",
    )
    .option(
      '--timestamp-client-cert <file>',
      'a client certificate (PEM) for a TSA that asks for one (mutual TLS), with --timestamp-client-key',
    )
    .option('--timestamp-client-key <file>', 'the private key (PEM) of --timestamp-client-cert')
    .option(
      '--timestamp-server-name <name>',
      "the name the TSA's TLS certificate must carry, when it is not the host of its URL",
    )
    .option('--signing-config <file>', 'signing_config.json naming the CA, logs and TSAs to use')
    .addOption(serverOption('a Signet stack: use its signing config'))
    .option('--tuf-root <file>', "pin the server's TUF root.json (otherwise trusted on first use)")
    .option(
      '--trusted-root <file>',
      'verify the new bundle against this trusted_root.json before writing it',
    )
    .option('--rekor-version <n>', 'only use transparency logs with this API version (1 or 2)')
    .addOption(timeoutOption())
    .option('--output-signature <file>', 'also write the signature (base64) to this file')
    .option('--output <file>', 'same as --output-signature')
    .option('--output-certificate <file>', 'also write the signing certificate (PEM) to this file')
    .option('--rfc3161-timestamp <file>', 'also write the RFC 3161 timestamp (DER) to this file')
    .option(
      '--signing-algorithm <alg>',
      `the ephemeral key of keyless signing (${SIGNING_ALGORITHMS.join(', ')})`,
    )
    .option('--slot <slot>', 'security key slot (not supported)')
    .option(
      '-y, --yes',
      'do not ask for confirmation (signet never asks; accepted for cosign compatibility)',
    );
  addBool(cmd, 'use-rekor-v2', 'same as --rekor-version 2');
  addBool(cmd, 'tlog-upload', 'write a transparency log entry', true);
  addBool(
    cmd,
    'use-signing-config',
    'with no --server/--signing-config: use the signing config of the default TUF repository (public-good unless signet initialize chose another)',
    true,
  );
  addBool(cmd, 'offline', 'take the default signing config from the TUF cache or the shipped copy');
  addBool(cmd, 'oidc-disable-ambient-providers', 'never read CI credentials for a token');
  addBool(cmd, 'b64', 'write --output-signature as base64', true);
  addBool(cmd, 'new-bundle-format', 'write a Sigstore bundle (always)', true);
  addBool(cmd, 'issue-certificate', 'with --key: also get a CA certificate (not supported)');
  addBool(cmd, 'insecure-skip-verify', 'no meaning: SCTs are not checked while signing');
  addBool(cmd, 'sk', 'use a hardware security key (not supported)');
  // cosign's messages (options/signblob.go, fulcio.go, rekor.go, oidc.go)
  deprecate(cmd, 'b64', 'please use --bundle, which already base64 encodes content as appropriate');
  deprecate(
    cmd,
    'output-signature',
    'please use --bundle to provide the output bundle location, which will include the signature',
  );
  deprecate(
    cmd,
    'output',
    'please use --bundle to provide the output bundle location, which will include the signature',
  );
  deprecate(
    cmd,
    'output-certificate',
    'please use --bundle to provide the output bundle location, which will include the certificate',
  );
  deprecate(cmd, 'new-bundle-format', 'this will be the only supported format in future versions');
  deprecate(
    cmd,
    'timestamp-server-url',
    'please use a signing config to specify a timestamp server url; see `cosign signing-config --help`',
  );
  deprecate(
    cmd,
    'rfc3161-timestamp',
    'please use --bundle to provide the output bundle location, which will include the signed timestamp',
  );
  deprecate(cmd, 'issue-certificate', 'support for this flag will be removed in the future');
  deprecate(
    cmd,
    'fulcio-url',
    'please use a signing config to specify a fulcio url; see `cosign signing-config --help`',
  );
  deprecate(
    cmd,
    'rekor-url',
    'please use a signing config to specify a rekor url; see `cosign signing-config --help`',
  );
  deprecate(
    cmd,
    'oidc-issuer',
    'please use a signing config to specify an OIDC issuer; see `cosign signing-config create --help`',
  );
  deprecate(
    cmd,
    'insecure-skip-verify',
    'SCT verification is no longer performed during signing/attestation.',
  );
  return cmd;
}

const FLOWS: Record<string, 'browser' | 'device' | 'never'> = {
  normal: 'browser',
  device: 'device',
  token: 'never',
};

/** Turn the flags into setupSigning options (validated here: they are untrusted input). */
export async function signingOptions(f: SigningFlags): Promise<SignSetupOptions> {
  const { tufCacheDir } = await import('../../client/tuf/index.ts');
  if (f.sk || f.slot !== undefined)
    throw invalid(
      f.sk ? '--sk' : '--slot',
      'hardware security keys are not supported; use --key with a key file',
    );
  refuseKeyReference(f.key);
  if (f.issueCertificate)
    throw invalid(
      '--issue-certificate',
      'is not supported: sign keyless for a certificate, or pass --certificate with --key',
    );
  if (f.signingAlgorithm !== undefined && !SIGNING_ALGORITHMS.includes(f.signingAlgorithm))
    throw invalid(
      '--signing-algorithm',
      `"${f.signingAlgorithm}" is not supported (${SIGNING_ALGORITHMS.join(', ')}; with --key the key decides)`,
    );
  if (f.signingConfig !== undefined && f.useSigningConfig === false)
    throw invalid('--signing-config', 'give either --signing-config or --use-signing-config=false');
  if (f.certificate !== undefined && f.key === undefined)
    throw invalid('--certificate', 'goes with --key: the certificate of that key');
  if (f.fulcioAuthFlow !== undefined && ownEntry(FLOWS, f.fulcioAuthFlow) === undefined)
    throw invalid(
      '--fulcio-auth-flow',
      `"${f.fulcioAuthFlow}" is not one of normal, device, token (client_credentials is not supported)`,
    );
  let rekorVersion: 1 | 2 | undefined;
  if (f.useRekorV2) rekorVersion = 2;
  if (f.useRekorV2 && f.rekorVersion !== undefined && f.rekorVersion !== '2')
    throw invalid('--rekor-version', `${f.rekorVersion} contradicts --use-rekor-v2: give one`);
  if (f.rekorVersion !== undefined) {
    if (f.rekorVersion !== '1' && f.rekorVersion !== '2')
      throw invalid('--rekor-version', `"${f.rekorVersion}" is not 1 or 2`);
    rekorVersion = Number(f.rekorVersion) as 1 | 2;
  }
  const { readText } = await import('../../client/sign/setup.ts');
  const o: SignSetupOptions = {
    tufCacheDir: tufCacheDir(),
    tlogUpload: f.tlogUpload,
    http: requestTimeout(f),
    onEvent: (m: string) => process.stderr.write(`${m}\n`),
    useDefaultSigningConfig: f.useSigningConfig,
    offline: f.offline === true,
    oidcDisableAmbient: f.oidcDisableAmbientProviders === true,
  };
  const server = serverFrom(f.server, f.signingConfig);
  const set = <K extends keyof SignSetupOptions>(k: K, v: SignSetupOptions[K] | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  set('key', f.key);
  // --key may be an http(s) URL or env://VAR, as in cosign (its KMS schemes are refused above).
  if (f.key !== undefined) o.keyReferences = true;
  set('identityToken', f.identityToken);
  set('oidcIssuer', f.oidcIssuer);
  set('oidcClientId', f.oidcClientId);
  set('signingConfig', f.signingConfig);
  set('server', server);
  set('tufRoot', f.tufRoot);
  set('rekorVersion', rekorVersion);
  set('caUrl', f.fulcioUrl);
  set('rekorUrl', f.rekorUrl);
  set('timestampServerUrl', f.timestampServerUrl);
  const { tlsClientOptions } = await import('../tls-flags.ts');
  set(
    'tsaTls',
    tlsClientOptions(
      {
        ca: f.timestampClientCacert,
        cert: f.timestampClientCert,
        key: f.timestampClientKey,
        servername: f.timestampServerName,
      },
      'timestamp',
    ),
  );
  set('oidcRedirectUrl', f.oidcRedirectUrl);
  set('oidcProvider', f.oidcProvider);
  set(
    'interactive',
    f.fulcioAuthFlow !== undefined ? ownEntry(FLOWS, f.fulcioAuthFlow) : undefined,
  );
  if (f.oidcClientSecretFile !== undefined)
    o.oidcClientSecret = readText(f.oidcClientSecretFile, '--oidc-client-secret-file').trim();
  if (f.certificate !== undefined) o.certificatePem = readText(f.certificate, '--certificate');
  return o;
}

/** One output file a flag names, and cosign's line saying so (`Wrote signature to file F`). */
export function writeOutputFile(
  file: string,
  flag: string,
  what: string,
  data: string | Uint8Array,
): void {
  try {
    process.getBuiltinModule('node:fs').writeFileSync(file, data);
  } catch (e) {
    throw invalid(flag, describeWriteError(e, file), e);
  }
  process.stderr.write(`Wrote ${what} to file ${file}\n`);
}

/**
 * cosign's detached outputs, next to the bundle: the signature (base64 unless --b64=false),
 * the signing certificate (PEM), the RFC 3161 timestamp (DER).
 */
export async function writeDetachedOutputs(bundle: Bundle, f: SigningFlags): Promise<void> {
  const { encodePem } = await import('../../core/encoding/pem.ts');
  const sigFile = f.outputSignature ?? f.output;
  if (sigFile !== undefined) {
    const sig =
      bundle.content.$case === 'messageSignature'
        ? bundle.content.messageSignature.signature
        : new TextEncoder().encode(
            JSON.stringify(
              (await import('../../core/dsse/index.ts')).envelopeToJSON(
                bundle.content.dsseEnvelope,
              ),
            ),
          );
    writeOutputFile(
      sigFile,
      f.outputSignature !== undefined ? '--output-signature' : '--output',
      'signature',
      f.b64 ? Buffer.from(sig).toString('base64') : sig,
    );
  }
  if (f.outputCertificate !== undefined) {
    const s = bundle.verificationMaterial.signer;
    const der =
      s.$case === 'certificate'
        ? s.certificate
        : s.$case === 'x509CertificateChain'
          ? s.certificates[0]
          : undefined;
    if (der === undefined)
      throw invalid('--output-certificate', 'a key-signed bundle has no certificate to write');
    writeOutputFile(
      f.outputCertificate,
      '--output-certificate',
      'certificate',
      encodePem('CERTIFICATE', der),
    );
  }
  if (f.rfc3161Timestamp !== undefined) {
    const t = bundle.verificationMaterial.rfc3161Timestamps[0];
    if (t === undefined)
      throw invalid(
        '--rfc3161-timestamp',
        'no timestamp authority was used, so there is no timestamp to write',
      );
    writeOutputFile(f.rfc3161Timestamp, '--rfc3161-timestamp', 'RFC 3161 timestamp', t);
  }
}

/** What --trusted-root checks when signing: the certificate first, then the new bundle. */
export interface NewBundleCheck {
  /** Once the signer has its certificate, before anything is signed or logged. */
  certificate(signer: Signer): Promise<void>;
  /** The new bundle, before it is written. */
  bundle(bundle: Bundle, artifact: Artifact, signer: Signer): Promise<void>;
}

/**
 * With --trusted-root: the CA's certificate must be of a CA it names before anything is logged,
 * and the new bundle must verify against it before it is written. The file is read before
 * signing, so a typo fails before a certificate is asked for.
 */
export async function bundleChecker(
  trustedRoot: string | undefined,
  /** What is not done with a bundle that does not verify: written, or pushed (images). */
  fate: 'written' | 'pushed' = 'written',
): Promise<NewBundleCheck> {
  if (trustedRoot === undefined) return { certificate: async () => {}, bundle: async () => {} };
  const { readText } = await import('../../client/sign/setup.ts');
  const { checkNewBundle, checkNewCertificate } = await import('../../client/sign/check.ts');
  const text = readText(trustedRoot, '--trusted-root');
  return {
    certificate: async (signer) => checkNewCertificate(signer, text, trustedRoot),
    bundle: async (bundle, artifact, signer) => {
      try {
        await checkNewBundle(bundle, artifact, text, trustedRoot, signer);
      } catch (e) {
        throw new SignetError(
          'verification',
          'NEW_BUNDLE_UNVERIFIED',
          `the new bundle does not verify against ${trustedRoot}, so it was not ${fate}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    },
  };
}

/** Before signing: the bundle's folder must exist, so nothing is logged for a bundle we cannot write. */
export async function checkBundleTarget(
  file: string | undefined,
  artifact?: string,
): Promise<void> {
  if (file === undefined) return;
  checkOutputFolder('--bundle', file);
  const fs = process.getBuiltinModule('node:fs');
  const path = await import('node:path');
  // Found now, before a certificate is issued and an entry logged, not when writing.
  const there = fs.statSync(file, { throwIfNoEntry: false });
  if (there?.isDirectory()) throw invalid('--bundle', `${file} is a folder: give a file name`);
  // `-` is standard input, not a file of that name (nor one the bundle could be).
  if (
    there &&
    artifact !== undefined &&
    artifact !== '-' &&
    fs.existsSync(artifact) &&
    fs.realpathSync(file) === fs.realpathSync(path.resolve(artifact))
  )
    throw invalid('--bundle', `${file} is the file being signed: the bundle would replace it`);
}

/**
 * Write the bundle to --bundle (all or nothing) or print it on stdout. `flag` is what named the
 * file, for the error.
 */
export async function writeBundleOutput(
  json: string,
  file: string | undefined,
  flag = '--bundle',
): Promise<void> {
  if (file === undefined) {
    process.stdout.write(`${json}\n`);
    return;
  }
  const fs = process.getBuiltinModule('node:fs');
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
    throw invalid(flag, describeWriteError(e, file), e);
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
      .argument(
        '<files...>',
        'the file to sign; with several, each bundle is written beside its file as FILE.sigstore.json',
      ),
  ).action(async (files: string[], flags: SigningFlags) => {
    if (files.length > 1) {
      await signFilesToBundles(files, flags, () => signingOptions(flags));
      return;
    }
    checkDetachedTargets(flags);
    const bundle = await signFileToBundle(files[0]!, flags, () => signingOptions(flags));
    await writeDetachedOutputs(bundle, flags);
  });
}

/**
 * Before signing: the folders of the detached outputs must exist, as the bundle's must, so a
 * signature is never logged whose --output-signature could not then be written.
 */
export function checkDetachedTargets(f: SigningFlags): void {
  checkOutputFolder(
    f.outputSignature !== undefined ? '--output-signature' : '--output',
    f.outputSignature ?? f.output,
  );
  checkOutputFolder('--output-certificate', f.outputCertificate);
  checkOutputFolder('--rfc3161-timestamp', f.rfc3161Timestamp);
}

/** The folder an output file goes to must exist (`flag` named the file). */
function checkOutputFolder(flag: string, file: string | undefined): void {
  if (file === undefined) return;
  const fs = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  if (!fs.statSync(path.dirname(path.resolve(file)), { throwIfNoEntry: false })?.isDirectory())
    throw invalid(flag, missingFolder(file));
}

/**
 * `sign-blob FILE FILE...`: every file is checked before anything is signed; then one identity
 * token and certificate sign them all, and each bundle is checked and written beside its file.
 * A file that fails is reported on its own line and the others go on; the exit code is the
 * first failure's.
 */
async function signFilesToBundles(
  files: string[],
  flags: SigningFlags,
  options: () => Promise<SignSetupOptions>,
): Promise<void> {
  const { bundleBeside, refuseOneFileFlags, refuseRepeats, stdinFree } =
    await import('../../client/many-files.ts');
  refuseOneFileFlags(
    [
      ['--bundle', flags.bundle],
      ['--output-signature', flags.outputSignature],
      ['--output', flags.output],
      ['--output-certificate', flags.outputCertificate],
      ['--rfc3161-timestamp', flags.rfc3161Timestamp],
    ],
    `names one file's output; with ${files.length} files each bundle is written beside its file as FILE.sigstore.json`,
  );
  refuseRepeats(files, 'file');
  const { setupSigning, checkReadableFile, signFiles } = await import('../../client/sign/setup.ts');
  const path = await import('node:path');
  const fs = process.getBuiltinModule('node:fs');
  for (const file of files) {
    const abs = path.resolve(file);
    checkReadableFile(file, 'file');
    // Its bundle goes beside it: a folder we cannot write to fails now, before anything is logged.
    try {
      fs.accessSync(path.dirname(abs), fs.constants.W_OK);
    } catch (e) {
      throw invalid(
        'file',
        `cannot write ${bundleBeside(file)}: ${describeSystemError(e, path.dirname(abs))}`,
        e,
      );
    }
  }
  const check = await bundleChecker(flags.trustedRoot);
  const ctx = await setupSigning({
    ...(await options()),
    passphraseFromStdin: stdinFree(...files),
  });
  await check.certificate(ctx.signer);
  const { serializeBundle } = await import('../../bundle/bundle.ts');
  const results = await signFiles(files, ctx, async (file, bundle, artifact) => {
    await check.bundle(bundle, artifact, ctx.signer);
    await writeBundleOutput(serializeBundle(bundle), bundleBeside(file), 'bundle');
  });
  const { reportErrorOf, finishEach } = await import('../errors.ts');
  const failed = results.filter((r) => r.error !== undefined);
  for (const r of failed) reportErrorOf(r.file, r.error);
  finishEach(
    failed.map((r) => r.error),
    files.length,
    'files were not signed',
  );
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
): Promise<Bundle> {
  // Loaded only when the command runs, so other commands start fast.
  // Not the client/sign barrel: it also brings attestation predicates and the bundle check.
  const { setupSigning, checkReadableFile, signFile } = await import('../../client/sign/setup.ts');
  // One file may be a pipe (`sign-blob <(...)`), read once, as verify-blob takes it.
  checkReadableFile(file, 'file', { pipe: true });
  await checkBundleTarget(out.bundle, file);
  const check = await bundleChecker(out.trustedRoot);
  const { stdinFree } = await import('../../client/many-files.ts');
  const ctx = await setupSigning({ ...(await options()), passphraseFromStdin: stdinFree(file) });
  await check.certificate(ctx.signer);
  const { bundle, artifact } = await signFile(file, ctx);
  await check.bundle(bundle, artifact, ctx.signer);
  const { serializeBundle } = await import('../../bundle/bundle.ts');
  await writeBundleOutput(serializeBundle(bundle), out.bundle);
  return bundle;
}
