import path from 'node:path';
import { invalid } from '../core/errors.ts';
import { readTextFile } from './read-file.ts';
import { parseYamlDocument } from '../core/yaml.ts';

/**
 * The `signet up` configuration: a YAML or JSON file, overridden by environment variables,
 * overridden by flags. Top-level keys set the stack; a section per service (`rekor:`, `ca:`,
 * `ctlog:`, `tsa:`, `oidc:`, `tuf:`) is parsed by that service (its `parse`, types.ts) before
 * any service is created.
 */
export interface StackConfig {
  /**
   * The config file's folder: a relative path in the file (`data`, `ca.issuers`, `ca.certChain`,
   * `ca.key`, `ctlog.roots`) names a file there, not in the working folder, so the file means
   * the same wherever `signet up` starts (a systemd unit runs in /). Absent for no file.
   */
  dir?: string;
  port?: number;
  host?: string;
  data?: string;
  database?: string;
  publicUrl?: string;
  accessLog?: boolean;
  services: Record<string, Record<string, unknown>>;
}

const TOP_LEVEL = new Set(['port', 'host', 'data', 'database', 'publicUrl', 'accessLog']);
/**
 * The keys each service section takes (documented with each service's parse: rekor/service.ts,
 * ca/service.ts, ctlog/service.ts, tsa/service.ts, oidc/config.ts, tuf/service.ts). A misspelt
 * key would otherwise be ignored and its default used: a CA key type, a client list.
 */
const SECTION_KEYS: Record<string, readonly string[]> = {
  rekor: [
    'hostname',
    'maxRequestBytes',
    'batchMaxAgeMs',
    'batchMaxSize',
    'verifyWorkers',
    'witnesses',
    'witnessTimeoutMs',
  ],
  ca: [
    'issuers',
    'keyType',
    'certChain',
    'key',
    'keyPassphrase',
    'organization',
    'commonName',
    'signingAlgorithms',
    'tokenCache',
  ],
  ctlog: ['batchMaxAgeMs', 'roots'],
  tsa: ['acceptedPolicies', 'includeChain'],
  oidc: [
    'clients',
    'identities',
    'includeDefaultIdentities',
    'devicePollIntervalSeconds',
    'loginTimeoutSeconds',
    'spiffeTrustDomain',
    'tokenLifetimeSeconds',
  ],
  tuf: ['lifetimes'],
};
const SERVICE_SECTIONS = new Set(Object.keys(SECTION_KEYS));

export function readConfigFile(file: string): StackConfig {
  const text = readTextFile(file, 'config file', { code: 'CONFIG' });
  const doc = parseYamlDocument(text, `config file ${file}`, { code: 'CONFIG' });
  const config = parseConfig(doc ?? {}, file);
  config.dir = path.dirname(path.resolve(file));
  // The services resolve their own paths (each section's parse, given `dir`).
  if (config.data) config.data = path.resolve(config.dir, config.data);
  return config;
}

export function parseConfig(doc: unknown, where: string): StackConfig {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid(where, 'the config must be a mapping of keys to values');
  const out: StackConfig = { services: {} };
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (SERVICE_SECTIONS.has(k)) {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw invalid(`${where}: ${k}`, 'must be a mapping');
      const known = SECTION_KEYS[k]!;
      for (const key of Object.keys(v))
        if (!known.includes(key))
          throw invalid(`${where}: ${k}.${key}`, `unknown key (known: ${known.join(', ')})`);
      out.services[k] = v as Record<string, unknown>;
    } else if (TOP_LEVEL.has(k)) {
      if (k === 'port') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535)
          throw invalid(`${where}: port`, 'must be a whole number from 0 to 65535');
        out.port = v;
      } else if (k === 'accessLog') {
        if (typeof v !== 'boolean') throw invalid(`${where}: accessLog`, 'must be true or false');
        out.accessLog = v;
      } else {
        if (typeof v !== 'string') throw invalid(`${where}: ${k}`, 'must be a string');
        (out as unknown as Record<string, unknown>)[k] = v;
      }
    } else {
      throw invalid(
        `${where}: ${k}`,
        `unknown key (known: ${[...TOP_LEVEL, ...SERVICE_SECTIONS].join(', ')})`,
      );
    }
  }
  return out;
}
