import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignetError } from '../core/errors.ts';
import { writeFileAtomic } from '../log/atomic-file.ts';
import { generateKey, type KeySpec, readPrivateKeyFile } from './keys.ts';
import { writeOnce } from './write-once.ts';
import { parseJsonText } from '../core/json.ts';

/**
 * The versions of one service key (the CA, a log, the TSA). Exactly one version is current;
 * earlier ones stay in the ring with the end of their validity window, so the trusted root can
 * keep naming them and every earlier bundle stays verifiable (issue 4, key rotation).
 *
 * On disk: `dataDir/keys/<name>/ring.json` (the versions, in order) and one PKCS#8 PEM file per
 * version, `dataDir/keys/<name>/<id>.pem`, mode 0600.
 */
export interface KeyVersion {
  /** 1, 2, ... in creation order. */
  id: number;
  key: KeyObject;
  validFrom: Date;
  /** Set once the version has been rotated out. */
  validTo?: Date;
}

/** A version's validity window as a ring lists it on disk (ring.json), and the CA's chains from files too. */
export interface VersionWindow {
  id: number;
  validFrom: string;
  validTo?: string;
}

interface RingFile {
  spec: KeySpec;
  versions: VersionWindow[];
}

/**
 * The one model of a version's window, for key rings and the CA's chains from files alike: a
 * new version starts at `at`, and the one before it, if still open, ends at that same instant
 * (one that already ended, when something else took over from it, keeps its end). Returns the
 * new version's id.
 */
export function appendVersion(versions: VersionWindow[], at: Date): number {
  const last = versions[versions.length - 1];
  const id = (last?.id ?? 0) + 1;
  if (last && last.validTo === undefined) last.validTo = at.toISOString();
  versions.push({ id, validFrom: at.toISOString() });
  return id;
}

export class KeyRing {
  readonly name: string;
  readonly versions: readonly KeyVersion[];
  private readonly dir: string;

  private constructor(name: string, dir: string, versions: KeyVersion[]) {
    this.name = name;
    this.dir = dir;
    this.versions = versions;
  }

  /** Opens the ring, creating it with one fresh key of `spec` on first use. */
  static open(dataDir: string, name: string, spec: KeySpec): KeyRing {
    const dir = path.join(dataDir, 'keys', name);
    const file = path.join(dir, 'ring.json');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeKey(dir, 1, generateKey(spec));
      writeRing(file, { spec, versions: [{ id: 1, validFrom: new Date().toISOString() }] });
    }
    return KeyRing.read(name, dir);
  }

  /**
   * Adds a new current version and closes the window of the previous one at the same instant
   * (appendVersion; a ring that ended when another CA took over keeps that end).
   */
  static rotate(dataDir: string, name: string, at = new Date()): KeyRing {
    const { dir, file, ring } = KeyRing.load(dataDir, name);
    const id = (ring.versions[ring.versions.length - 1]?.id ?? 0) + 1;
    writeKey(dir, id, generateKey(ring.spec));
    appendVersion(ring.versions, at);
    writeRing(file, ring);
    return KeyRing.read(name, dir);
  }

  /**
   * Ends the window of the current version at `at`, with no version after it: another CA took
   * over (the CA from files, for the built-in `ca` ring). Nothing changes when it already ended.
   */
  static close(dataDir: string, name: string, at: Date): KeyRing {
    const { dir, file, ring } = KeyRing.load(dataDir, name);
    const last = ring.versions[ring.versions.length - 1];
    if (last && last.validTo === undefined) {
      // Never before it started (a window that ends before it begins holds nothing).
      last.validTo = new Date(Math.max(at.getTime(), Date.parse(last.validFrom))).toISOString();
      writeRing(file, ring);
    }
    return KeyRing.read(name, dir);
  }

  /** Whether the ring `name` exists in the data folder (without making it). */
  static exists(dataDir: string, name: string): boolean {
    return fs.existsSync(path.join(dataDir, 'keys', name, 'ring.json'));
  }

  private static load(dataDir: string, name: string) {
    const dir = path.join(dataDir, 'keys', name);
    const file = path.join(dir, 'ring.json');
    if (!fs.existsSync(file))
      throw new SignetError(
        'not-found',
        'NO_KEY',
        `no key "${name}" in ${dataDir}: start the stack once first`,
      );
    const ring = parseJsonText(fs.readFileSync(file), `key ring ${name}`, file) as RingFile;
    return { dir, file, ring };
  }

  private static read(name: string, dir: string): KeyRing {
    const file = path.join(dir, 'ring.json');
    const ring = parseJsonText(fs.readFileSync(file), `key ring ${name}`, file) as RingFile;
    const versions = ring.versions.map((v) => {
      const kv: KeyVersion = {
        id: v.id,
        key: readPrivateKeyFile(path.join(dir, `${v.id}.pem`)),
        validFrom: new Date(v.validFrom),
      };
      if (v.validTo) kv.validTo = new Date(v.validTo);
      return kv;
    });
    return new KeyRing(name, dir, versions);
  }

  /** The newest version: the one in use, unless its window has ended (KeyRing.close). */
  current(): KeyVersion {
    return this.versions[this.versions.length - 1]!;
  }

  /** Folder of this ring, for files that belong to one version (e.g. a CA certificate `<id>.crt`). */
  get folder(): string {
    return this.dir;
  }
}

/** Two processes starting on one data folder at once: the first key written stays (writeOnce). */
function writeKey(dir: string, id: number, key: KeyObject): void {
  writeOnce(path.join(dir, `${id}.pem`), key.export({ format: 'pem', type: 'pkcs8' }) as string);
}

function writeRing(file: string, ring: RingFile): void {
  writeFileAtomic(file, `${JSON.stringify(ring, null, 2)}\n`, 0o600);
}
