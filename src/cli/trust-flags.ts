/**
 * The flags shared by the verify commands (cosign's names). What they mean is decided in the
 * client layer (client/verify/setup.ts); here they are only declared.
 */
import type { Command } from 'commander';

export type { VerifyFlags } from '../client/verify/setup.ts';

/** Adds the identity, key and trust flags to a verify command. */
export function addVerifyFlags(cmd: Command): Command {
  cmd.option('--bundle <file>', 'the Sigstore bundle to verify');
  addIdentityFlags(cmd);
  cmd.option('--key <file>', 'verify with this public key (PEM) instead of a certificate identity');
  return addTrustFlags(cmd);
}

/** Who must have signed: the certificate identity and issuer (exact, or a whole-value regexp). */
export function addIdentityFlags(cmd: Command): Command {
  return cmd
    .option('--certificate-identity <id>', 'the signer identity (certificate SAN), matched exactly')
    .option(
      '--certificate-identity-regexp <re>',
      'a regular expression the whole signer identity must match',
    )
    .option('--certificate-oidc-issuer <url>', 'the OIDC issuer of the identity, matched exactly')
    .option(
      '--certificate-oidc-issuer-regexp <re>',
      'a regular expression the whole OIDC issuer must match',
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

/** Where trust comes from: a trusted_root.json, or a Signet server's TUF repository. */
export function addTrustFlags(cmd: Command): Command {
  return cmd
    .option('--trusted-root <file>', 'trusted_root.json to verify against (offline)')
    .option(
      '--server <url>',
      'a Signet server to get the trusted root from (through its TUF repository)',
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
