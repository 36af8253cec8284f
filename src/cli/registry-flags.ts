/** Registry flags shared by the image commands (cosign's names). */
import type { Command } from 'commander';
import { exitCodeFor } from './errors.ts';
import { requestTimeout } from './flags.ts';
import { invalid } from '../core/errors.ts';
import { parseReference } from '../core/oci/reference.ts';
import { tlsClientOptions } from './tls-flags.ts';
import type { RegistryOptions } from '../client/oci/registry.ts';

export interface RegistryFlags {
  registryUsername?: string;
  registryPassword?: string;
  registryToken?: string;
  registryCacert?: string;
  registryClientCert?: string;
  registryClientKey?: string;
  registryServerName?: string;
  k8sKeychain?: boolean;
  attachmentTagPrefix?: string;
  allowHttpRegistry?: boolean;
  allowInsecureRegistry?: boolean;
  timeout?: string;
}

export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--registry-username <name>', 'user name for the registry (else ~/.docker/config.json)')
    .option('--registry-password <secret>', 'password or token for the registry')
    .option(
      '--registry-token <token>',
      'a bearer token the registry takes as it is (e.g. a CI job token), instead of a user name and password',
    )
    .option(
      '--registry-cacert <file>',
      "CA certificates (PEM) the registry's TLS certificate must chain to, in place of the system's",
    )
    .option(
      '--registry-client-cert <file>',
      'a client certificate (PEM) for a registry that asks for one (mutual TLS), with --registry-client-key',
    )
    .option('--registry-client-key <file>', 'the private key (PEM) of --registry-client-cert')
    .option(
      '--registry-server-name <name>',
      "the name the registry's TLS certificate must carry, when it is not the host in the image reference",
    )
    .option('--k8s-keychain', 'refused: use credential helpers named in ~/.docker/config.json')
    .option(
      '--attachment-tag-prefix <prefix>',
      'tag legacy signature images [prefix]sha256-<hex>.sig (and .att, .sbom), as cosign does with it',
    )
    .option('--allow-http-registry', 'allow plain HTTP to a registry that is not on loopback')
    .option(
      '--allow-insecure-registry',
      'skip TLS certificate verification for the registry (a self-signed certificate), and allow plain HTTP',
    );
}

export function registryOptions(f: RegistryFlags): RegistryOptions {
  const o: RegistryOptions = {};
  if (f.k8sKeychain)
    throw invalid(
      '--k8s-keychain',
      "is not supported: name the cloud's credential helper (docker-credential-ecr-login, -gcr, -acr-env, ...) in ~/.docker/config.json credHelpers, or pass --registry-token",
    );
  if (f.registryUsername !== undefined) o.username = f.registryUsername;
  if (f.registryPassword !== undefined) o.password = f.registryPassword;
  if (f.registryToken !== undefined) {
    if (f.registryToken.trim() === '' || /\s/.test(f.registryToken))
      throw invalid('--registry-token', 'is empty or has white space: give the token alone');
    o.token = f.registryToken;
  }
  const tls = tlsClientOptions(
    {
      ca: f.registryCacert,
      cert: f.registryClientCert,
      key: f.registryClientKey,
      servername: f.registryServerName,
    },
    'registry',
  );
  if (tls) o.tls = tls;
  const target = process.env.COSIGN_REPOSITORY;
  if (target) {
    const ref = parseReference(target, 'COSIGN_REPOSITORY');
    if (ref.digest || (target.split('/').pop() ?? '').includes(':'))
      throw invalid('COSIGN_REPOSITORY', `"${target}" names a tag or digest: give a repository`);
    o.signatureRepository = { registry: ref.registry, repository: ref.repository };
  }
  if (f.attachmentTagPrefix !== undefined) {
    // A tag is at most 128 characters of [A-Za-z0-9_.-], not starting with . or - (distribution).
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,39}$/.test(f.attachmentTagPrefix))
      throw invalid(
        '--attachment-tag-prefix',
        `"${f.attachmentTagPrefix}" cannot begin a tag: up to 40 of A-Z a-z 0-9 _ . -, not starting with . or -`,
      );
    o.tagPrefix = f.attachmentTagPrefix;
  }
  if (f.allowHttpRegistry) o.allowHttp = true;
  if (f.allowInsecureRegistry) o.allowInsecure = true;
  // Not given: the registry client's own default (policy verify's --timeout is its deadline).
  if (f.timeout !== undefined) o.http = requestTimeout(f);
  return o;
}

/** `-a key=value` (repeatable) into a map. */
/**
 * cosign's --platform os/arch[/variant] (copy, download; here also sign, attest, verify and
 * verify-attestation): of a multi-platform index, the image for that platform. Parsed when
 * given: most starts never read the module.
 */
export async function platformFlag(
  text: string,
): Promise<import('../core/oci/platform.ts').Platform> {
  const { parsePlatform } = await import('../core/oci/platform.ts');
  return parsePlatform(text, '--platform');
}

export function collectAnnotation(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

export function parseAnnotations(list: string[] | undefined): Record<string, string> | undefined {
  if (!list || list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw invalid('-a', `"${kv}" is not key=value`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export function parseBool(v: string, flag: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(flag, `"${v}" is not true or false`);
}

/** cosign verify's exit codes: one table for every command (cli/errors.ts). */
export function verifyExitCode(e: unknown): number {
  return exitCodeFor(e);
}
