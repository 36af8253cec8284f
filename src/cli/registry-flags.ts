/** Registry flags shared by the image commands (cosign's names). */
import type { Command } from 'commander';
import { exitCodeFor } from './errors.ts';
import { invalid } from '../core/errors.ts';
import type { RegistryOptions } from '../client/oci/registry.ts';

export interface RegistryFlags {
  registryUsername?: string;
  registryPassword?: string;
  allowHttpRegistry?: boolean;
  allowInsecureRegistry?: boolean;
  timeout?: string;
}

export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--registry-username <name>', 'user name for the registry (else ~/.docker/config.json)')
    .option('--registry-password <secret>', 'password or token for the registry')
    .option('--allow-http-registry', 'allow plain HTTP to a registry that is not on loopback')
    .option(
      '--allow-insecure-registry',
      'skip TLS certificate verification for the registry (a self-signed certificate), and allow plain HTTP',
    );
}

export function registryOptions(f: RegistryFlags): RegistryOptions {
  const o: RegistryOptions = {};
  if (f.registryUsername !== undefined) o.username = f.registryUsername;
  if (f.registryPassword !== undefined) o.password = f.registryPassword;
  if (f.allowHttpRegistry) o.allowHttp = true;
  if (f.allowInsecureRegistry) o.allowInsecure = true;
  if (f.timeout !== undefined) {
    const s = Number(f.timeout);
    if (!/^\d+(\.\d+)?$/.test(f.timeout) || s <= 0)
      throw invalid('--timeout', `"${f.timeout}" is not a positive number of seconds`);
    o.http = { timeoutMs: s * 1000 };
  }
  return o;
}

/** `-a key=value` (repeatable) into a map. */
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
