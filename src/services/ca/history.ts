import fs from 'node:fs';
import path from 'node:path';
import { bytesEqual } from '../../core/encoding/der.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { invalid } from '../../core/errors.ts';
import { parseJsonText } from '../../core/json.ts';
import { parseCertificatesPem, type X509Certificate } from '../../core/x509/certificate.ts';
import { writeFileAtomic } from '../../log/atomic-file.ts';
import { appendVersion, KeyRing, type VersionWindow } from '../keyring.ts';
import {
  type CaChainVersion,
  type CaNames,
  type CaVersion,
  openRingCa,
  readRingCa,
} from './authority.ts';

/**
 * Every CA a stack has issued under, so that its trusted root keeps naming them all (as
 * public-good Sigstore keeps its retired CAs, each closed with a validFor.end) and every bundle
 * signed before a change of CA still verifies:
 *
 * - the built-in CA's versions: the `ca` key ring (`keys/ca`), each version with its
 *   intermediate certificate;
 * - each distinct chain the stack was started with from files (`ca.certChain`, `ca.key`), in
 *   `keys/ca-files`: `chains.json`, the versions' windows as a key ring's `ring.json` lists
 *   them, and `<id>.crt`, that version's chain (PEM; never its key, which stays the operator's).
 *
 * One of them is current. A change of CA (a new chain from files, files in place of the built-in
 * CA, or the built-in CA again) starts a new version and ends the one before at the same
 * instant, as `signet rotate` does to a key ring (appendVersion); starting with the CA already
 * current changes nothing.
 */
export const FILE_CHAINS_FOLDER = 'ca-files';
const INDEX = 'chains.json';

export type CaSource =
  | { from: 'files'; version: CaVersion }
  | { from: 'ring'; curve: 'P-256' | 'P-384'; names: CaNames };

/**
 * The CA versions for the stack in `dataDir` with the CA `source` (the config's), recording a
 * change of CA at `at`: every earlier one, oldest first, then the current one (the issuing one).
 */
export function openCaVersions(
  dataDir: string,
  source: CaSource,
  at = new Date(),
): [...CaChainVersion[], CaVersion] {
  return source.from === 'files'
    ? withFiles(dataDir, source.version, at)
    : withRing(dataDir, source, at);
}

function withFiles(dataDir: string, file: CaVersion, at: Date): [...CaChainVersion[], CaVersion] {
  let chains = readFileChains(dataDir);
  const hadRing = KeyRing.exists(dataDir, 'ca');
  const last = chains[chains.length - 1];
  if (!last || last.validTo !== undefined || !sameChain(last.chain, file.chain)) {
    // A stack that never had another CA: from when its certificate is valid, as before these
    // chains were recorded (a stack started from files by an earlier Signet signed from then).
    recordFileChain(dataDir, file.chain, !last && !hadRing ? file.validFrom : at);
    chains = readFileChains(dataDir);
  }
  const current = chains[chains.length - 1]!;
  // The built-in CA issues no more from when the files took over (also when a start cut short
  // between the two writes left it open).
  if (hadRing) KeyRing.close(dataDir, 'ca', current.validFrom);
  const earlier = byStart([...readRingCa(dataDir), ...chains.slice(0, -1)]);
  const version: CaVersion = { ...file, id: current.id, validFrom: current.validFrom };
  return [...earlier, version];
}

function withRing(
  dataDir: string,
  ring: { curve: 'P-256' | 'P-384'; names: CaNames },
  at: Date,
): [...CaChainVersion[], CaVersion] {
  // The built-in CA again after files took over from it: a new version of its key (from its
  // current root), as `signet rotate ca` makes; the one that ended then keeps its end.
  if (KeyRing.exists(dataDir, 'ca')) {
    const versions = KeyRing.open(dataDir, 'ca', { type: 'ec', curve: ring.curve }).versions;
    if (versions[versions.length - 1]!.validTo !== undefined) KeyRing.rotate(dataDir, 'ca', at);
  }
  const versions = openRingCa(dataDir, ring);
  const current = versions[versions.length - 1]!;
  closeFileChains(dataDir, current.validFrom);
  const earlier = byStart([...versions.slice(0, -1), ...readFileChains(dataDir)]);
  return [...earlier, current];
}

function byStart<T extends CaChainVersion>(versions: T[]): T[] {
  return versions.sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
}

function sameChain(a: X509Certificate[], b: X509Certificate[]): boolean {
  return a.length === b.length && a.every((c, i) => bytesEqual(c.der, b[i]!.der));
}

/** The chains from files the stack was started with, oldest first ([] when it never was). */
export function readFileChains(dataDir: string): CaChainVersion[] {
  const { dir, versions } = readIndex(dataDir);
  return versions.map((v) => {
    const file = path.join(dir, `${v.id}.crt`);
    const out: CaChainVersion = {
      id: v.id,
      chain: parseCertificatesPem(fs.readFileSync(file, 'utf8'), file),
      validFrom: new Date(v.validFrom),
    };
    if (v.validTo !== undefined) out.validTo = new Date(v.validTo);
    return out;
  });
}

/** A new current chain from `from`, the one before it (if still open) ending then. */
function recordFileChain(dataDir: string, chain: X509Certificate[], from: Date): void {
  const { dir, file, versions } = readIndex(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = (versions[versions.length - 1]?.id ?? 0) + 1;
  // The chain first: an index never names a file that is not there. (One left by a start that
  // stopped between the two is replaced.)
  writeFileAtomic(
    path.join(dir, `${id}.crt`),
    chain.map((c) => encodePem('CERTIFICATE', c.der)).join(''),
  );
  appendVersion(versions, from);
  writeIndex(file, versions);
}

/** Ends the current chain from files, if one is current, at `at` (not before it started). */
function closeFileChains(dataDir: string, at: Date): void {
  const { file, versions } = readIndex(dataDir);
  const last = versions[versions.length - 1];
  if (!last || last.validTo !== undefined) return;
  last.validTo = new Date(Math.max(at.getTime(), Date.parse(last.validFrom))).toISOString();
  writeIndex(file, versions);
}

/** The current chain from files, if the stack was last started with its CA from files. */
export function currentFileChain(dataDir: string): CaChainVersion | undefined {
  const chains = readFileChains(dataDir);
  const last = chains[chains.length - 1];
  return last && last.validTo === undefined ? last : undefined;
}

function readIndex(dataDir: string): { dir: string; file: string; versions: VersionWindow[] } {
  const dir = path.join(dataDir, 'keys', FILE_CHAINS_FOLDER);
  const file = path.join(dir, INDEX);
  if (!fs.existsSync(file)) return { dir, file, versions: [] };
  const data = parseJsonText(fs.readFileSync(file), file);
  const list = (data as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(list)) throw invalid(`${file}: versions`, 'must be a list');
  const date = (v: unknown, field: string) => {
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v)))
      throw invalid(`${file}: ${field}`, 'must be a date (RFC 3339)');
    return v;
  };
  const versions = list.map((v: unknown, i): VersionWindow => {
    const e = (v ?? {}) as Record<string, unknown>;
    if (!Number.isSafeInteger(e['id']) || (e['id'] as number) < 1)
      throw invalid(`${file}: versions[${i}].id`, 'must be a whole number from 1');
    const out: VersionWindow = {
      id: e['id'] as number,
      validFrom: date(e['validFrom'], `versions[${i}].validFrom`),
    };
    if (e['validTo'] !== undefined) out.validTo = date(e['validTo'], `versions[${i}].validTo`);
    return out;
  });
  return { dir, file, versions };
}

function writeIndex(file: string, versions: VersionWindow[]): void {
  writeFileAtomic(file, `${JSON.stringify({ versions }, null, 2)}\n`, 0o600);
}
