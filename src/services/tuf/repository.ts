import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  Key,
  Metadata,
  MetadataKind,
  MetaFile,
  Root,
  Signature,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from '@tufjs/models';
import { Role } from '@tufjs/models/dist/role.js';
import { canonicalize } from '../../core/encoding/canonical-json.ts';
import { SignetError } from '../../core/errors.ts';
import { KeyRing } from '../keyring.ts';
import { parseJsonText } from '../../core/json.ts';

/**
 * A TUF 1.0 repository (theupdateframework.io/specification) for the stack's trust files:
 * a versioned root chain (`N.root.json`), targets, snapshot and timestamp, with consistent
 * snapshots (targets stored as `targets/<sha256>.<name>`). Root and targets keys are
 * "offline-ish" (KeyRing files, used when the content or a key changes, the targets key also
 * at each start); snapshot and timestamp are online roles, re-signed whenever less than half
 * their lifetime remains, and at each start (see update). Roots are numbered 1, 2, ...;
 * targets, snapshot and timestamp by the clock (Unix seconds at signing, or the previous
 * version + 1 if more: see nextVersion).
 *
 * On disk: `dataDir/tuf/metadata/*.json`, `dataDir/tuf/targets/*`; keys in KeyRings
 * `tuf-root`, `tuf-targets`, `tuf-snapshot`, `tuf-timestamp`.
 */
export type RoleName = 'root' | 'targets' | 'snapshot' | 'timestamp';
export const ROLES: readonly RoleName[] = ['root', 'targets', 'snapshot', 'timestamp'];
const DAY = 24 * 3600 * 1000;
const DEFAULT_LIFETIMES: Record<RoleName, number> = {
  root: 365 * DAY,
  targets: 180 * DAY,
  snapshot: 7 * DAY,
  timestamp: 1 * DAY,
};
const SPEC_VERSION = '1.0.31';

function ringName(role: RoleName): string {
  return `tuf-${role}`;
}

/** TUF key (ecdsa-sha2-nistp256, PEM public key as Sigstore's root-signing repo uses). */
function tufKey(key: KeyObject): Key {
  const pub = createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
  const body = { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pub } };
  const keyID = createHash('sha256').update(canonicalize(body)).digest('hex');
  return new Key({ keyID, keyType: body.keytype, scheme: body.scheme, keyVal: body.keyval });
}

function signer(key: KeyObject): (data: Buffer) => Signature {
  const keyID = tufKey(key).keyID;
  return (data) => new Signature({ keyID, sig: sign('sha256', data, key).toString('hex') });
}

function expiry(now: Date, lifetime: number): string {
  return new Date(now.getTime() + lifetime).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The version of a new targets, snapshot or timestamp: the time of signing in Unix seconds, or
 * the previous version + 1 if that is more. TUF asks only that these versions increase: a
 * client refuses a lower one than it has seen as a rollback, and keeps its own copy over an
 * equal one (TUF 1.0 §5.4-5.6). Counting from the clock keeps them above whatever this
 * repository published before, even once its data folder was restored from an older backup
 * (counting on from the backup's versions, the restored stack would serve lower ones than its
 * clients hold, then the same ones with other content); the previous + 1 keeps them increasing
 * when two are signed in one second or the clock went back. Roots count 1, 2, ... as TUF
 * requires (a client asks for N+1.root.json).
 */
function nextVersion(prev: AnyMeta | undefined, now: Date): number {
  const next = prev ? prev.signed.version + 1 : 1;
  const clock = Math.floor(now.getTime() / 1000);
  return Number.isSafeInteger(clock) && clock > next ? clock : next;
}

type AnyMeta = Metadata<Root> | Metadata<Targets> | Metadata<Snapshot> | Metadata<Timestamp>;

export class TufRepository {
  private readonly metaDir: string;
  private readonly targetsDir: string;
  private readonly lockFile: string;
  /** Identity of the timestamp.json this process last read or wrote (inode, mtime, size). */
  private diskStamp = '';
  private readonly rings: Record<RoleName, KeyRing>;
  private readonly lifetimes: Record<RoleName, number>;
  /** Whether this process has published (its first publication signs the online roles anew). */
  private published = false;
  /** Served files by path relative to the repository root (`2.root.json`, `targets/…`). */
  private readonly files = new Map<string, Buffer>();
  root!: Metadata<Root>;
  targets: Metadata<Targets> | undefined;
  snapshot: Metadata<Snapshot> | undefined;
  timestamp: Metadata<Timestamp> | undefined;

  private constructor(dataDir: string, lifetimes: Partial<Record<RoleName, number>>) {
    const dir = path.join(dataDir, 'tuf');
    this.metaDir = path.join(dir, 'metadata');
    this.targetsDir = path.join(dir, 'targets');
    this.lockFile = path.join(dir, 'publish.lock');
    fs.mkdirSync(this.metaDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.targetsDir, { recursive: true, mode: 0o700 });
    const spec = { type: 'ec', curve: 'P-256' } as const;
    this.rings = {
      root: KeyRing.open(dataDir, ringName('root'), spec),
      targets: KeyRing.open(dataDir, ringName('targets'), spec),
      snapshot: KeyRing.open(dataDir, ringName('snapshot'), spec),
      timestamp: KeyRing.open(dataDir, ringName('timestamp'), spec),
    };
    this.lifetimes = { ...DEFAULT_LIFETIMES, ...lifetimes };
  }

  /** Opens (or starts) the repository in `dataDir` and loads what was published before. */
  static open(dataDir: string, lifetimes: Partial<Record<RoleName, number>> = {}): TufRepository {
    const repo = new TufRepository(dataDir, lifetimes);
    repo.load();
    return repo;
  }

  private stampOf(): string {
    try {
      const st = fs.statSync(path.join(this.metaDir, 'timestamp.json'));
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return 'none';
    }
  }

  /**
   * Several `signet up` processes may share one data folder: before publishing, pick up what
   * another one published (every publication ends with a new timestamp.json).
   */
  private syncFromDisk(): void {
    if (this.stampOf() !== this.diskStamp) this.load();
  }

  /** Serializes publishing across processes with an exclusive lock file (stale after 10 s). */
  private withLock<T>(f: () => T): T {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        fs.closeSync(fs.openSync(this.lockFile, 'wx', 0o600));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        try {
          if (Date.now() - fs.statSync(this.lockFile).mtimeMs > 10_000)
            fs.rmSync(this.lockFile, { force: true });
        } catch {
          // removed meanwhile by its owner: try again
        }
        if (Date.now() > deadline)
          throw new SignetError(
            'unavailable',
            'TUF_LOCKED',
            `the TUF repository is being published by another process (${this.lockFile})`,
          );
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    try {
      return f();
    } finally {
      fs.rmSync(this.lockFile, { force: true });
    }
  }

  private load(): void {
    this.files.clear();
    this.diskStamp = this.stampOf();
    for (const f of fs.readdirSync(this.metaDir)) {
      if (!/^(\d+\.(root|targets|snapshot)|timestamp)\.json$/.test(f)) continue;
      this.files.set(f, fs.readFileSync(path.join(this.metaDir, f)));
    }
    for (const f of fs.readdirSync(this.targetsDir))
      this.files.set(`targets/${f}`, fs.readFileSync(path.join(this.targetsDir, f)));
    const latest = (role: 'root' | 'targets' | 'snapshot'): Buffer | undefined => {
      let best = 0;
      for (const k of this.files.keys()) {
        const m = new RegExp(`^(\\d+)\\.${role}\\.json$`).exec(k);
        if (m && Number(m[1]) > best) best = Number(m[1]);
      }
      return best ? this.files.get(`${best}.${role}.json`) : undefined;
    };
    const parse = (b: Buffer | undefined): Record<string, never> | undefined =>
      b ? (parseJsonText(b, 'TUF metadata') as Record<string, never>) : undefined;
    const r = parse(latest('root'));
    if (r) this.root = Metadata.fromJSON(MetadataKind.Root, r);
    const t = parse(latest('targets'));
    if (t) this.targets = Metadata.fromJSON(MetadataKind.Targets, t);
    const s = parse(latest('snapshot'));
    if (s) this.snapshot = Metadata.fromJSON(MetadataKind.Snapshot, s);
    const ts = parse(this.files.get('timestamp.json'));
    if (ts) this.timestamp = Metadata.fromJSON(MetadataKind.Timestamp, ts);
  }

  /** The public key each role should have now (the current KeyRing version). */
  private currentKeys(): Record<RoleName, Key> {
    return {
      root: tufKey(this.rings.root.current().key),
      targets: tufKey(this.rings.targets.current().key),
      snapshot: tufKey(this.rings.snapshot.current().key),
      timestamp: tufKey(this.rings.timestamp.current().key),
    };
  }

  private expiring(md: AnyMeta | undefined, role: RoleName, now: Date): boolean {
    if (!md) return true;
    return Date.parse(md.signed.expires) - now.getTime() < this.lifetimes[role] / 2;
  }

  /** True when `md` is signed by the key the current root names for `role`. */
  private signedByCurrent(md: AnyMeta, role: RoleName): boolean {
    const ids = this.root.signed.roles[role]!.keyIDs;
    return Object.keys(md.signatures).some((id) => ids.includes(id));
  }

  /**
   * Publishes `targets` (name -> bytes): re-signs what changed or is about to expire, in
   * dependency order root -> targets -> snapshot -> timestamp. Returns the roles re-signed.
   *
   * The first publication of each process (each `open`) signs targets, snapshot and timestamp
   * anew whatever they hold: the data folder may be a restored backup (or a copy, a disk
   * snapshot) older than what clients last fetched from it, and its unexpired metadata, served
   * as it is, would have lower versions than theirs (a rollback to a TUF client, for up to half
   * a lifetime). Signed now, their versions are above anything signed before this start (see
   * nextVersion). Roots are left as they are.
   */
  update(targets: Record<string, Uint8Array>, now = new Date()): RoleName[] {
    return this.withLock(() => {
      this.syncFromDisk();
      const changed = this.publish(targets, now, !this.published);
      this.published = true;
      return changed;
    });
  }

  private publish(targets: Record<string, Uint8Array>, now: Date, anew: boolean): RoleName[] {
    const changed: RoleName[] = [];
    if (this.updateRoot(now)) changed.push('root');
    if (this.updateTargets(targets, now, changed.includes('root'), anew)) changed.push('targets');
    if (this.updateSnapshot(now, changed.length > 0)) changed.push('snapshot');
    if (this.updateTimestamp(now, changed.length > 0)) changed.push('timestamp');
    return changed;
  }

  private updateRoot(now: Date): boolean {
    const keys = this.currentKeys();
    const prev = this.root as Metadata<Root> | undefined;
    if (
      prev &&
      ROLES.every((r) => prev.signed.roles[r]!.keyIDs.join() === keys[r].keyID) &&
      !this.expiring(prev, 'root', now)
    )
      return false;
    const version = prev ? prev.signed.version + 1 : 1;
    const md = new Metadata(
      new Root({
        version,
        specVersion: SPEC_VERSION,
        expires: expiry(now, this.lifetimes.root),
        consistentSnapshot: true,
        keys: Object.fromEntries(ROLES.map((r) => [keys[r].keyID, keys[r]])),
        roles: Object.fromEntries(
          ROLES.map((r) => [r, new Role({ keyIDs: [keys[r].keyID], threshold: 1 })]),
        ),
      }),
    );
    // TUF §5.3.4: a new root is signed by a threshold of the previous root's keys and of its own.
    const signers = new Map<string, KeyObject>();
    const current = this.rings.root.current().key;
    signers.set(tufKey(current).keyID, current);
    if (prev) {
      for (const id of prev.signed.roles['root']!.keyIDs) {
        const v = this.rings.root.versions.find((x) => tufKey(x.key).keyID === id);
        if (!v)
          throw new SignetError(
            'internal',
            'TUF_ROOT_KEY',
            `the previous root key ${id} is not in the tuf-root key ring: cannot sign root version ${version}`,
          );
        signers.set(id, v.key);
      }
    }
    for (const k of signers.values()) md.sign(signer(k), true);
    this.root = md;
    this.write(`${version}.root.json`, md);
    return true;
  }

  private updateTargets(
    files: Record<string, Uint8Array>,
    now: Date,
    rootChanged: boolean,
    anew: boolean,
  ): boolean {
    const want: Record<string, TargetFile> = {};
    for (const [name, bytes] of Object.entries(files)) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const sha512 = createHash('sha512').update(bytes).digest('hex');
      want[name] = new TargetFile({ path: name, length: bytes.length, hashes: { sha256, sha512 } });
      // TUF 1.0 "Writing consistent snapshots": one copy per listed hash. Clients pick either:
      // tuf-js and python-tuf the first, go-tuf (sigstore-go, cosign) any one, at random.
      for (const hash of [sha256, sha512]) this.writeTarget(`${hash}.${name}`, bytes);
    }
    const prev = this.targets;
    if (
      prev &&
      !anew &&
      !this.expiring(prev, 'targets', now) &&
      (!rootChanged || this.signedByCurrent(prev, 'targets'))
    ) {
      const old = prev.signed.targets;
      const same =
        Object.keys(old).length === Object.keys(want).length &&
        Object.entries(want).every(([n, t]) => old[n]?.equals(t));
      if (same) return false;
    }
    const version = nextVersion(prev, now);
    this.targets = this.publishRole(
      'targets',
      `${version}.targets.json`,
      new Targets({
        version,
        specVersion: SPEC_VERSION,
        expires: expiry(now, this.lifetimes.targets),
        targets: want,
      }),
    );
    return true;
  }

  private updateSnapshot(now: Date, upstreamChanged: boolean): boolean {
    const prev = this.snapshot;
    const targetsVersion = this.targets!.signed.version;
    if (
      prev &&
      !upstreamChanged &&
      !this.expiring(prev, 'snapshot', now) &&
      prev.signed.meta['targets.json']?.version === targetsVersion &&
      // one written before snapshots named targets.json by its hashes is written again once
      prev.signed.meta['targets.json'].hashes !== undefined
    )
      return false;
    const version = nextVersion(prev, now);
    const targetsBytes = this.files.get(`${targetsVersion}.targets.json`)!;
    this.snapshot = this.publishRole(
      'snapshot',
      `${version}.snapshot.json`,
      new Snapshot({
        version,
        specVersion: SPEC_VERSION,
        expires: expiry(now, this.lifetimes.snapshot),
        // With its hashes (TUF 1.0 §4.4, optional): a client can then tie its cached
        // targets.json to a timestamp the repository still serves by hashes alone.
        meta: {
          'targets.json': new MetaFile({
            version: targetsVersion,
            length: targetsBytes.length,
            hashes: { sha256: createHash('sha256').update(targetsBytes).digest('hex') },
          }),
        },
      }),
    );
    return true;
  }

  private updateTimestamp(now: Date, upstreamChanged: boolean): boolean {
    const prev = this.timestamp;
    const snap = this.snapshot!;
    if (
      prev &&
      !upstreamChanged &&
      !this.expiring(prev, 'timestamp', now) &&
      prev.signed.snapshotMeta.version === snap.signed.version
    )
      return false;
    const bytes = this.files.get(`${snap.signed.version}.snapshot.json`)!;
    this.timestamp = this.publishRole(
      'timestamp',
      'timestamp.json',
      new Timestamp({
        version: nextVersion(prev, now),
        specVersion: SPEC_VERSION,
        expires: expiry(now, this.lifetimes.timestamp),
        snapshotMeta: new MetaFile({
          version: snap.signed.version,
          length: bytes.length,
          hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
        }),
      }),
    );
    return true;
  }

  /** Signs `signed` with the role's current key (one key, threshold 1) and publishes it as `name`. */
  private publishRole<T extends Targets | Snapshot | Timestamp>(
    role: RoleName,
    name: string,
    signed: T,
  ): Metadata<T> {
    const md = new Metadata(signed);
    md.sign(signer(this.rings[role].current().key), false);
    this.write(name, md as AnyMeta);
    return md;
  }

  /** A served file by its path below the repository root, or undefined. */
  read(rel: string): Buffer | undefined {
    const found = this.lookup(rel);
    if (found !== undefined) return found;
    // Another process on the same data folder may have published it since: a client that got
    // timestamp.json from that process asks this one for the snapshot and targets it names.
    this.syncFromDisk();
    return this.lookup(rel);
  }

  private lookup(rel: string): Buffer | undefined {
    if (rel === 'root.json') return this.files.get(`${this.root.signed.version}.root.json`);
    if (rel === 'targets.json' && this.targets)
      return this.files.get(`${this.targets.signed.version}.targets.json`);
    if (rel === 'snapshot.json' && this.snapshot)
      return this.files.get(`${this.snapshot.signed.version}.snapshot.json`);
    return this.files.get(rel);
  }

  private write(name: string, md: AnyMeta): void {
    const bytes = Buffer.from(`${JSON.stringify(md.toJSON(), null, 2)}\n`);
    atomicWrite(path.join(this.metaDir, name), bytes);
    this.files.set(name, bytes);
    if (name === 'timestamp.json') this.diskStamp = this.stampOf();
  }

  private writeTarget(name: string, bytes: Uint8Array): void {
    const rel = `targets/${name}`;
    if (this.files.has(rel)) return;
    atomicWrite(path.join(this.targetsDir, name), bytes);
    this.files.set(rel, Buffer.from(bytes));
  }
}

function atomicWrite(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes, { mode: 0o644 });
  fs.renameSync(tmp, file);
}
