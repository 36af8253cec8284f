/**
 * The flags of the verify commands: cosign v3's verify-blob set (options/verify.go,
 * options/certificate.go), with the deprecated ones accepted and warned about as cosign does.
 * What they mean is decided in the client layer (client/verify/setup.ts); here they are only
 * declared, and the deprecated spellings mapped onto the ones that mean something.
 */
import type { Command } from 'commander';
import type { VerifyFlags } from '../client/verify/setup.ts';
import { invalid } from '../core/errors.ts';
import {
  addBool,
  deprecate,
  intOption,
  refuseKeyReference,
  serverFrom,
  serverOption,
} from './options.ts';
import { requestTimeout, timeoutOption } from './flags.ts';

export type { VerifyFlags } from '../client/verify/setup.ts';

/** What commander hands a verify action (cosign's names, camel-cased). */
export interface VerifyCliFlags extends VerifyFlags {
  privateInfrastructure?: boolean;
  maxWorkers?: number;
  rekorUrl?: string;
  sk?: boolean;
  slot?: string;
  caRoots?: string;
  caIntermediates?: string;
  sct?: string;
  timestampCertificateChain?: string;
  allowCertificateChain?: boolean;
  newBundleFormat?: boolean;
  experimentalOci11?: boolean;
  signatureDigestAlgorithm?: string;
  timeout?: string;
}

/** Adds the identity, key, trust, log and time flags to a verify command (cosign verify-blob's set). */
export function addVerifyFlags(cmd: Command): Command {
  cmd.option('--bundle <file>', 'the Sigstore bundle to verify');
  addIdentityFlags(cmd);
  cmd.option(
    '--key <file|url>',
    'verify with this public key (PEM: a file, an http(s) URL or env://VAR) instead of a certificate identity',
  );
  addTrustFlags(cmd);
  cmd
    .addOption(timeoutOption())
    .option('--signature <file|url|base64>', 'a detached signature (with --certificate or --key)')
    .option('--certificate <file|url>', 'the signing certificate (PEM) of a detached --signature')
    .option(
      '--certificate-chain <file|url>',
      'the CA certificates (PEM) between --certificate and the trusted root',
    )
    .addOption(intOption('max-workers', 'cosign compatibility: workers for parallel checks', 10))
    .option('--rekor-url <url>', 'ignored: the bundle carries the log entry and its proof')
    .option('--ca-roots <file>', 'use --trusted-root instead')
    .option('--ca-intermediates <file>', 'use --trusted-root instead')
    .option('--sct <file>', 'ignored: the SCT is embedded in the certificate')
    .option(
      '--rfc3161-timestamp <file|url>',
      'an RFC 3161 timestamp (DER) over a detached --signature (a bundle carries its own)',
    )
    .option('--timestamp-certificate-chain <file>', 'use --trusted-root instead')
    .option(
      '--signature-digest-algorithm <alg>',
      "ignored: a bundle names its digest algorithm, and a detached --signature is checked with its key's (SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521 and Ed25519)",
    )
    .option('--slot <slot>', 'security key slot (not supported)');
  addBool(
    cmd,
    'insecure-ignore-tlog',
    'accept a signature without a transparency log entry (it cannot be publicly audited)',
  );
  addBool(
    cmd,
    'insecure-ignore-sct',
    'accept a certificate without a certificate transparency SCT',
  );
  addBool(cmd, 'use-signed-timestamps', 'require an RFC 3161 timestamp from a trusted TSA');
  addBool(
    cmd,
    'offline',
    'no network at all: trust from --trusted-root, the verified TUF cache, or the root shipped with signet',
  );
  addBool(cmd, 'private-infrastructure', 'same as --insecure-ignore-tlog');
  addBool(
    cmd,
    'allow-certificate-chain',
    'accept a certificate chain in the bundle (always allowed)',
  );
  addBool(cmd, 'new-bundle-format', 'expect a Sigstore bundle (always)', true);
  addBool(cmd, 'experimental-oci11', 'no meaning for blobs');
  addBool(cmd, 'sk', 'use a hardware security key (not supported)');
  // cosign's messages (options/verify.go, options/certificate.go, options/rekor.go)
  deprecate(cmd, 'rekor-url', 'please use --bundle, which includes the Rekor inclusion proof');
  deprecate(cmd, 'signature', 'please use --bundle to provide a signature');
  deprecate(
    cmd,
    'certificate',
    'please use --bundle with --trusted-root to provide the public certificate',
  );
  deprecate(cmd, 'certificate-chain', 'please use --trusted-root to provide the certificate chain');
  deprecate(cmd, 'ca-roots', 'please use --trusted-root to provide CA certificates');
  deprecate(cmd, 'ca-intermediates', 'please use --trusted-root to provide CA certificates');
  deprecate(cmd, 'sct', 'a Signed Certificate Timestamp is now provided via a Sigstore bundle');
  deprecate(
    cmd,
    'offline',
    'To verify in an airgapped environment, provide a --bundle with the signature and verification material, and a --trusted-root file with the service keys and certificates',
  );
  deprecate(
    cmd,
    'timestamp-certificate-chain',
    'please use --trusted-root to provide the timestamp authority certificate chain',
  );
  deprecate(cmd, 'private-infrastructure', 'please use --insecure-ignore-tlog instead');
  deprecate(
    cmd,
    'experimental-oci11',
    'OCI referrers will be the default behavior in future versions',
  );
  deprecate(cmd, 'new-bundle-format', 'this will be the only supported format in future versions');
  deprecate(
    cmd,
    'rfc3161-timestamp',
    'please use --bundle to provide the output bundle location, which will include the signed timestamp',
  );
  deprecate(
    cmd,
    'signature-digest-algorithm',
    'please use --bundle, which already includes the digest algorithm',
  );
  return cmd;
}

/** Who must have signed: the certificate identity and issuer (exact, or a whole-value regexp). */
export function addIdentityFlags(cmd: Command): Command {
  return cmd
    .option('--certificate-identity <id>', 'the signer identity (certificate SAN), matched exactly')
    .option(
      '--certificate-identity-regexp <re>',
      'a regular expression the WHOLE signer identity must match (anchored, unlike cosign)',
    )
    .option('--certificate-oidc-issuer <url>', 'the OIDC issuer of the identity, matched exactly')
    .option(
      '--certificate-oidc-issuer-regexp <re>',
      'a regular expression the WHOLE OIDC issuer must match',
    )
    .option(
      '--certificate-github-workflow-trigger <event>',
      'the GitHub event that ran the workflow',
    )
    .option('--certificate-github-workflow-sha <sha>', 'the commit SHA the workflow ran on')
    .option('--certificate-github-workflow-name <name>', 'the GitHub workflow name')
    .option('--certificate-github-workflow-repository <owner/repo>', 'the GitHub repository')
    .option('--certificate-github-workflow-ref <ref>', 'the git ref the workflow ran on')
    .option(
      '--certificate-extension <oid=value>',
      'a Fulcio certificate extension that must have this exact value (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    );
}

/**
 * Where trust comes from: a trusted_root.json, a Signet server's TUF repository (SIGNET_SERVER),
 * else the default TUF repository (public-good unless `signet initialize` chose another). The
 * git commands (`git: true`) take the repository's signet.server first and have no --signature.
 */
export function addTrustFlags(cmd: Command, o: { git?: boolean } = {}): Command {
  return cmd
    .option(
      '--trusted-root <file>',
      o.git
        ? "trusted_root.json to verify against, read from the file (no TUF fetch); default: the repository's signet.server (git setup), else the TUF repository set by signet initialize, else the Sigstore public-good instance"
        : 'trusted_root.json to verify against, read from the file (no TUF fetch; a detached --signature still looks its log entry up unless --offline); default: the TUF repository set by signet initialize, else the Sigstore public-good instance',
    )
    .addOption(
      serverOption('a Signet server to get the trusted root from (through its TUF repository)'),
    )
    .option('--tuf-root <file>', "pin the server's TUF root.json (otherwise trusted on first use)")
    .option(
      '--witness-key <vkey|file>',
      'a witness key (name+keyid+base64 vkey, or a file of them) whose cosignature the log checkpoint must carry (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--witness-threshold <n>',
      'how many of the --witness-key witnesses must have cosigned (default 1)',
    );
}

/**
 * The flags as the client reads them: deprecated spellings mapped (--private-infrastructure is
 * --insecure-ignore-tlog), SIGNET_SERVER applied, and the ones that cannot mean anything here
 * refused with a reason instead of silently ignored.
 */
export function verifyFlagsFrom(f: VerifyCliFlags, bundleArg?: string): VerifyFlags {
  if (f.sk || f.slot !== undefined)
    throw invalid(
      f.sk ? '--sk' : '--slot',
      'hardware security keys are not supported; use --key with a PEM public key',
    );
  if (f.caRoots !== undefined || f.caIntermediates !== undefined)
    throw invalid(
      f.caRoots !== undefined ? '--ca-roots' : '--ca-intermediates',
      'is not supported: put the CA certificates in a trusted root (signet trusted-root create --fulcio ...) and pass --trusted-root',
    );
  if (f.timestampCertificateChain !== undefined)
    throw invalid(
      '--timestamp-certificate-chain',
      'is not supported: put the TSA chain in a trusted root (signet trusted-root create --tsa ...) or set SIGSTORE_TSA_CERTIFICATE_FILE',
    );
  if (bundleArg !== undefined && f.bundle !== undefined)
    throw invalid('--bundle', 'give the bundle either as an argument or with --bundle, not both');
  refuseKeyReference(f.key);
  const out: VerifyFlags = { ...f };
  if (bundleArg !== undefined) {
    out.bundle = bundleArg;
    out.bundleLabel = 'bundle';
  }
  if (f.privateInfrastructure) out.insecureIgnoreTlog = true;
  if (f.timeout !== undefined) out.http = requestTimeout(f);
  const server = serverFrom(f.server, f.trustedRoot);
  if (server === undefined) delete out.server;
  else out.server = server;
  return out;
}
