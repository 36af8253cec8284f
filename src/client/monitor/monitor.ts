/**
 * `signet monitor`: follows logs and says when something is wrong or someone signed as an
 * identity it watches (DESIGN.md: "monitor: follows the log's checkpoints (consistency) and
 * its entries (identities it watches)").
 *
 * One pass over each log:
 *  1. the latest tree head, its signature checked with the trusted root's key;
 *  2. consistency with the last verified head: never smaller, the same root for the same size,
 *     and an RFC 6962 consistency proof (for tiles logs computed from the tiles);
 *  3. optionally: the witness cosignatures it must carry, and heads of the same log seen
 *     elsewhere (a witness, a file) must be consistent with it (no split view);
 *  4. the entries since the last pass, read in order, each hashed into the compact range of
 *     the tree, matched against the watched identities; every chunk of entries is proven part
 *     of the signed tree (consistency from the chunk's end to the head) before its alerts are
 *     kept and the position moves. The state is saved after each verified step.
 * A log problem is an alert (reported once); a network error is an error line and the pass goes
 * on with the next log. Nothing unverified ever moves the state.
 */
import { describeSystemError, SignetError } from '../../core/errors.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import { hashEqual, leafHash } from '../../core/merkle/hash.ts';
import { verifyConsistency } from '../../core/merkle/tree.ts';
import { CompactRange, compactRangeAt, isPowerOfTwo } from '../../core/merkle/compact.ts';
import { requireCosignatures } from '../../core/note/cosignature.ts';
import type { WitnessPolicy } from '../verify/tlog.ts';
import { send } from '../../services/http/outbound.ts';
import { readDocument } from '../file-or-url.ts';
import {
  alertId,
  postWebhook,
  type Alert,
  type LogProblem,
  type Webhook,
  type WebhookOptions,
} from './alerts.ts';
import { IdentityMatcher } from './match.ts';
import type { TrustedAuthority } from '../../core/x509/chain.ts';
import { appendIdentities } from './identities-file.ts';
import { RawPrefilter } from './prefilter.ts';
import { watchesIdentities, type MonitorConfig } from './config.ts';
import type { LogHead, LogSource } from './sources.ts';
import { loadState, logStateKey, saveState, type LogState, type MonitorState } from './state.ts';
import { printable } from '../../core/encoding/printable.ts';

export interface MonitorOptions {
  sources: LogSource[];
  config: MonitorConfig;
  stateFile?: string | undefined;
  /** The state file's contents, when the caller has read it already (monitorFromFlags). */
  state?: MonitorState;
  /** Other places the same logs' heads are seen (files or URLs: a witness, a mirror). */
  compare?: string[];
  witnesses?: WitnessPolicy | undefined;
  webhooks?: Webhook[];
  webhookOptions?: WebhookOptions;
  /** Where alert lines go (default stdout). */
  print?: (line: string) => void;
  /** Where errors and progress go, as JSON lines (default stderr). */
  report?: (event: Record<string, unknown>) => void;
  /** Entries between two verified steps (default 16384). */
  chunk?: number;
  /**
   * The certificate authorities a signing certificate must chain to for its entry to be an
   * alert (the trusted root's, as rekor-monitor takes them); others are reported, not alerted.
   */
  authorities?: readonly TrustedAuthority[];
  /**
   * Every log of the trusted root this run began with (log IDs), followed or not: a new state
   * records them, so a log that appears later is known to be newer than the state.
   */
  knownLogs?: readonly Uint8Array[];
  /**
   * The logs and authorities again, from the trusted root as it is now; called before every
   * pass but the first, so a polling monitor follows a shard a rotation opens while it runs.
   */
  refresh?: () => Promise<MonitorTrust>;
}

/** What a monitor takes from the trusted root. */
export interface MonitorTrust {
  sources: LogSource[];
  authorities: readonly TrustedAuthority[];
}

export interface PassResult {
  /** Identity alerts found in this pass. */
  matched: number;
  /** Log problems found in this pass. */
  problems: number;
  /** Logs that could not be checked, or alerts that could not be delivered. */
  errors: number;
  /** Entries read in this pass. */
  entries: number;
}

const b64 = toBase64;

/**
 * What one `--compare` source gave the logs of a pass: a tree head of one of them compared, or
 * 404 (nothing there yet), or, for each log, why it was not that log's head.
 */
interface CompareOutcome {
  /** Logs it was tried with (one that failed before its compare step was not). */
  tried: number;
  compared: boolean;
  absent: boolean;
  foreign: string | undefined;
}

/** The config's indexes past a log's end: its mistake, not the log's, so the run stops. */
const CONFIG_BEYOND_LOG = new Set<string>(['START_INDEX_BEYOND_LOG', 'END_INDEX_BEYOND_LOG']);

/** A log's key in the state: `logid:<hex of the trusted root's log ID>`. */
const logKey = (src: LogSource): string => logStateKey(src.log.logId);

export class Monitor {
  readonly #o: MonitorOptions;
  readonly #state: MonitorState;
  #sources: LogSource[];
  #matcher: IdentityMatcher;
  #passes = 0;
  readonly #prefilter: RawPrefilter | undefined;
  readonly #watch: boolean;
  readonly #print: (line: string) => void;
  readonly #report: (e: Record<string, unknown>) => void;

  constructor(o: MonitorOptions) {
    this.#o = o;
    this.#state = o.state ?? loadState(o.stateFile);
    // A state begun before it kept its known logs knows those it follows: another log of the
    // root may have opened since its last pass, so it is read from its start (reading more).
    if (this.#state.known === undefined && o.knownLogs)
      this.#state.known = new Set(
        this.#state.logs.size > 0 ? this.#state.logs.keys() : o.knownLogs.map(logStateKey),
      );
    this.#sources = o.sources;
    this.#matcher = this.#matcherFor(o.authorities);
    this.#prefilter = RawPrefilter.for(o.config);
    this.#watch = watchesIdentities(o.config);
    // JSON lines; printable() keeps them JSON (its escapes are JSON's) and out of the terminal's hands
    this.#print = o.print ?? ((l) => process.stdout.write(`${printable(l)}\n`));
    this.#report = o.report ?? ((e) => process.stderr.write(`${JSON.stringify(e)}\n`));
  }

  #matcherFor(authorities: readonly TrustedAuthority[] | undefined): IdentityMatcher {
    return new IdentityMatcher(this.#o.config, {
      ...(authorities ? { authorities } : {}),
      onPartial: (rule, pattern, value) => {
        if (this.#partialSaid.has(rule)) return;
        this.#partialSaid.add(rule);
        this.#report({
          level: 'warn',
          rule,
          pattern,
          value,
          notAlerted: `the expression matches only part of a certificate identity: signet matches the WHOLE value, where rekor-monitor accepts a partial match; write the rest, e.g. .* where the value may continue`,
        });
      },
    });
  }

  /** The rules whose partial match was said (once a rule, for the monitor's life). */
  readonly #partialSaid = new Set<string>();

  get state(): MonitorState {
    return this.#state;
  }

  #save(): void {
    saveState(this.#o.stateFile, this.#state);
  }

  /**
   * Webhooks (and the outputIdentities file) that failed, after their retries, in this pass:
   * not tried again until the next one, so a receiver that is down costs one round of retries
   * a pass, not one per alert and log (a `--once` run with nine alerts took minutes and posted
   * each alert 20 times).
   */
  #downThisPass = new Set<string>();

  /** Whether the run was told it watches nothing (said once, at its first pass). */
  #toldNothingWatched = false;

  async pass(): Promise<PassResult> {
    const r: PassResult = { matched: 0, problems: 0, errors: 0, entries: 0 };
    this.#downThisPass.clear();
    const c = this.#o.config;
    if (
      !this.#toldNothingWatched &&
      c.certIdentities.length + c.subjects.length + c.fingerprints.length + c.oidMatchers.length ===
        0
    ) {
      // As rekor-monitor without a config: the logs' consistency only (a run for --compare, or
      // one whose --config was forgotten and must not be taken for one that watched someone).
      this.#toldNothingWatched = true;
      this.#report({
        level: 'info',
        message:
          'no identity, subject, fingerprint or OID is watched (give --config): only that the logs do not rewrite their history is checked',
      });
    }
    if (this.#passes++ > 0 && this.#o.refresh)
      try {
        const t = await this.#o.refresh();
        this.#sources = t.sources;
        this.#matcher = this.#matcherFor(t.authorities);
      } catch (e) {
        // The logs of the root read last are still followed; the next pass tries again.
        r.errors++;
        this.#report({
          level: 'error',
          error: `the trusted root could not be read again, so a log it added would not be followed: ${(e as Error).message}`,
        });
      }
    // Alerts a previous run found but did not deliver everywhere go out first.
    r.errors += await this.#deliver();
    const compared = new Map<string, CompareOutcome>();
    for (const src of this.#sources) {
      try {
        await this.#passLog(src, r, compared);
      } catch (e) {
        // The config's mistake, not this log's: the run stops with it.
        if (e instanceof SignetError && CONFIG_BEYOND_LOG.has(e.code)) throw e;
        r.errors++;
        this.#report({ level: 'error', log: src.url, error: (e as Error).message });
      }
      r.errors += await this.#deliver();
    }
    this.#compareOutcomes(compared, r);
    return r;
  }

  /**
   * A `--compare` source that held no tree head of any log followed compared nothing: the split
   * view it is there to catch would pass unseen, so it is an error (a wrong file, another log's
   * checkpoint), or a warning when it answered 404 (a witness that has not seen the log yet).
   */
  #compareOutcomes(compared: Map<string, CompareOutcome>, r: PassResult): void {
    for (const [where, o] of compared) {
      // Not tried with every log: it may be the head of one that failed (already an error).
      if (o.compared || o.tried < this.#sources.length) continue;
      if (o.foreign === undefined && o.absent)
        this.#report({
          level: 'warn',
          compare: where,
          message: 'answered 404: no tree head of the logs followed there yet, nothing compared',
        });
      else {
        r.errors++;
        this.#report({
          level: 'error',
          compare: where,
          error: `is not a tree head of a log followed, so nothing was compared: ${o.foreign ?? 'unknown'}`,
        });
      }
    }
  }

  #problem(
    src: LogSource,
    st: LogState | undefined,
    problem: LogProblem,
    message: string,
    seen: { size: number; rootHash: Uint8Array } | undefined,
    r: PassResult,
  ): void {
    // What the problem is about: the head it concerns, or (no head) what was wrong.
    const key = seen
      ? `${problem}:${seen.size}:${b64(seen.rootHash)}`
      : `${problem}:${alertId(message)}`;
    const record = st ?? this.#logState(src);
    const id = alertId(src.url, key);
    // Every pass that finds it counts (a --once run exits 3 while the log still misbehaves),
    // but the alert goes out once: later passes say so on stderr, naming the alert.
    r.problems++;
    if (record?.problem === key) {
      this.#report({ level: 'error', log: src.url, problem, message, repeatOf: id });
      return;
    }
    const alert: Alert = {
      type: 'log',
      id,
      log: src.url,
      problem,
      message,
      verified: record ? { size: record.size, rootHash: b64(record.rootHash) } : undefined,
      seen: seen ? { size: seen.size, rootHash: b64(seen.rootHash) } : undefined,
    };
    if (record) record.problem = key;
    this.#state.pending.push({ alert, printed: false, delivered: [] });
    this.#save();
  }

  /**
   * What was verified of `src` before: kept under its log ID (the key of the trusted root),
   * which stays when the log is reached at another URL (a moved stack whose trusted root names
   * the CT log by its new address); state files written before are keyed by URL, read once.
   */
  #logState(src: LogSource): LogState | undefined {
    const key = logKey(src);
    const byId = this.#state.logs.get(key);
    if (byId) return byId;
    const byUrl = this.#state.logs.get(src.url);
    if (byUrl) {
      this.#state.logs.delete(src.url);
      this.#state.logs.set(key, byUrl);
    }
    return byUrl;
  }

  async #passLog(
    src: LogSource,
    r: PassResult,
    compared: Map<string, CompareOutcome>,
  ): Promise<void> {
    let head: LogHead;
    try {
      head = await src.head();
    } catch (e) {
      if (e instanceof SignetError && e.code === 'LOG_SIGNATURE')
        return this.#problem(src, undefined, 'bad-signature', e.message, undefined, r);
      throw e;
    }
    const st = this.#logState(src);
    let proofFromLast: Uint8Array[] | undefined;
    if (st) {
      if (head.size < st.size)
        return this.#problem(
          src,
          st,
          'shrinking-tree',
          `the log shows a tree of ${head.size} entries after one of ${st.size} was verified`,
          head,
          r,
        );
      if (head.size === st.size && !hashEqual(head.rootHash, st.rootHash))
        return this.#problem(
          src,
          st,
          'fork',
          `the log shows a different root for tree size ${head.size} than the one verified before`,
          head,
          r,
        );
      if (head.size > st.size) {
        try {
          proofFromLast = await src.consistencyProof(st.size, head.size);
        } catch (e) {
          if (e instanceof SignetError && e.code === 'TILE_SIZE')
            return this.#problem(src, st, 'bad-tile', e.message, head, r);
          throw e;
        }
        try {
          verifyConsistency(st.size, head.size, proofFromLast, st.rootHash, head.rootHash);
        } catch (e) {
          return this.#problem(
            src,
            st,
            'inconsistent',
            `the tree of size ${head.size} is not an extension of the verified tree of size ${st.size}: ${(e as Error).message}`,
            head,
            r,
          );
        }
      }
    }
    const w = this.#o.witnesses;
    if (w && w.threshold > 0 && src.kind !== 'ct') {
      try {
        requireCosignatures(head.note, w.keys, w.threshold, `the checkpoint of ${src.url}`);
      } catch (e) {
        return this.#problem(src, st, 'missing-cosignatures', (e as Error).message, head, r);
      }
    }
    for (const other of this.#o.compare ?? []) {
      const c = await this.#compare(src, head, other);
      const o = compared.get(other) ?? {
        tried: 0,
        compared: false,
        absent: false,
        foreign: undefined,
      };
      compared.set(other, o);
      o.tried++;
      if (c === 'absent') {
        o.absent = true;
        continue;
      }
      if ('foreign' in c) o.foreign ??= c.foreign;
      else o.compared = true;
      if ('fork' in c) return this.#problem(src, st, 'fork', c.fork, c.seen, r);
    }
    // The head is verified: it becomes the last verified head.
    const next: LogState = st ?? {
      size: head.size,
      rootHash: head.rootHash,
      note: head.note,
      position: undefined,
      range: undefined,
      problem: undefined,
    };
    if (st && st.position !== undefined && st.range === undefined && proofFromLast)
      // Started at the head last time: the proof from it gives the tree's compact range there.
      if (st.position === st.size && st.size > 0)
        next.range = compactRangeAt(st.size, head.size, proofFromLast, st.rootHash);
    next.size = head.size;
    next.rootHash = head.rootHash;
    next.note = head.note;
    next.problem = undefined;
    this.#state.logs.set(logKey(src), next);
    this.#save();
    this.#report({ level: 'info', log: src.url, verified: head.size });
    if (this.#watch) await this.#scan(src, next, head, r);
  }

  /**
   * Another view of the log's head must be consistent with this one. Says whether `where` had
   * this log's head (and then whether it agrees), had nothing (404), or why its text is not a
   * head of this log.
   */
  async #compare(
    src: LogSource,
    head: LogHead,
    where: string,
  ): Promise<'absent' | { foreign: string } | { agrees: true } | { fork: string; seen: LogHead }> {
    let text: string;
    if (/^https?:\/\//.test(where)) {
      const res = await send({
        service: 'the checkpoint source',
        method: 'GET',
        url: where,
        allow: [404],
      });
      if (res.status === 404) return 'absent'; // it has not seen this log yet
      text = new TextDecoder().decode(res.body);
    } else text = readDocument(where, '--compare');
    let other: LogHead;
    try {
      // Pure: a failure says the text is not this log's head (another log's, another form: an
      // RFC 6962 STH is JSON, a checkpoint a signed note), never that the log failed.
      other = src.openHead(text);
    } catch (e) {
      return { foreign: (e as Error).message };
    }
    const [a, b] = other.size <= head.size ? [other, head] : [head, other];
    try {
      const proof = a.size === b.size ? [] : await src.consistencyProof(a.size, b.size);
      verifyConsistency(a.size, b.size, proof, a.rootHash, b.rootHash);
    } catch (e) {
      if (e instanceof SignetError && e.kind !== 'verification') throw e;
      return {
        fork: `a tree head of this log seen at ${where} (size ${other.size}) is not consistent with the one it shows (size ${head.size}): ${(e as Error).message}`,
        seen: other,
      };
    }
    return { agrees: true };
  }

  /** A log index of the config (the log's numbering) as a position in the tree followed. */
  #position(src: LogSource, index: number): number {
    return Math.max(0, index - src.firstIndex);
  }

  /** Where identity scanning starts the first time, and the compact range there. */
  async #start(
    src: LogSource,
    head: LogHead,
  ): Promise<{ position: number; range: CompactRange | undefined }> {
    const from = this.#o.config.startIndex;
    const size = src.firstIndex + head.size;
    // An index the log has not reached is a mistake in the config, not a wait for the log
    // (rekor-monitor refuses a start after the end too); the log's size itself is the next entry.
    if (from !== undefined && from > size)
      throw new SignetError(
        'invalid-input',
        'START_INDEX_BEYOND_LOG',
        `${from} is beyond the end of ${src.url}, whose tree size is ${size} (startIndex may be at most ${size}, the index of its next entry)`,
        { field: 'startIndex' },
      );
    const end = this.#o.config.endIndex;
    if (from === undefined && end !== undefined)
      // #checkEnd: end < size, so the head is past it
      this.#report({
        level: 'warn',
        log: src.url,
        message: `endIndex ${end} is before the log's size ${size}, where reading starts without a startIndex: nothing is read (give startIndex)`,
      });
    if (from !== undefined && from < src.firstIndex)
      this.#report({
        level: 'warn',
        log: src.url,
        message: `startIndex ${from} is in an inactive shard, which is not read: reading from ${src.firstIndex}, the active shard's first entry`,
      });
    const known = this.#state.known;
    const key = logKey(src);
    // A log the state did not know when it began nor start on since opened after it: all its
    // entries are new to this monitor, so it is read from its first (rekor-monitor starts at
    // the head, where a rotation between two passes would hide the new shard's first entries).
    const opened = from === undefined && known !== undefined && !known.has(key);
    known?.add(key);
    if (opened)
      this.#report({
        level: 'info',
        log: src.url,
        message: 'a log that opened after this state began: read from its first entry',
      });
    let p = from === undefined && !opened ? head.size : this.#position(src, from ?? 0);
    if (p === head.size) return { position: p, range: p === 0 ? new CompactRange() : undefined };
    if (p === 0) return { position: 0, range: new CompactRange() };
    if (isPowerOfTwo(p)) {
      // The proof leaves out a power-of-two tree's root; only tiles can compute it.
      if (src.rootAt) return { position: p, range: new CompactRange(p, [await src.rootAt(p)]) };
      p = p <= 2 ? 0 : p - 1;
      if (p === 0) return { position: 0, range: new CompactRange() };
    }
    // Unverified until the scan reaches a signed root through it.
    return {
      position: p,
      range: compactRangeAt(p, head.size, await src.consistencyProof(p, head.size)),
    };
  }

  /**
   * An endIndex the log has not reached is refused, not cut to the tree size: rekor-monitor's
   * search fails on it and its run ends (mon:internal/cmd/common.go MonitorLoop). endIndex is
   * inclusive, so the tree size itself is one past the end.
   */
  #checkEnd(src: LogSource, head: LogHead): void {
    const end = this.#o.config.endIndex;
    const size = src.firstIndex + head.size;
    if (end === undefined || end < size) return;
    throw new SignetError(
      'invalid-input',
      'END_INDEX_BEYOND_LOG',
      `${end} is beyond the end of ${src.url}, whose tree size is ${size} (${size === 0 ? 'it has no entries yet' : `endIndex may be at most ${size - 1}, the index of its last entry`})`,
      { field: 'endIndex' },
    );
  }

  /**
   * Whether the config's endIndex is read in every log (or, watching no identity, whether it has
   * one): a run given an endIndex then ends, polling or not, as rekor-monitor's does.
   */
  get rangeRead(): boolean {
    const end = this.#o.config.endIndex;
    if (end === undefined) return false;
    if (!this.#watch) return true;
    return this.#sources.every((src) => {
      const p = this.#state.logs.get(logKey(src))?.position;
      return p !== undefined && p >= this.#position(src, end + 1);
    });
  }

  async #scan(src: LogSource, st: LogState, head: LogHead, r: PassResult): Promise<void> {
    this.#checkEnd(src, head);
    if (st.position === undefined) {
      const s = await this.#start(src, head);
      st.position = s.position;
      st.range = s.range;
      this.#save();
    }
    if (st.range === undefined) return; // started at the head: read from the next head on
    const { startIndex, endIndex } = this.#o.config;
    // #checkEnd: an endIndex is inside the tree
    const to = endIndex !== undefined ? this.#position(src, endIndex + 1) : head.size;
    const chunk = this.#o.chunk ?? 16_384;
    const from0 = startIndex === undefined ? 0 : this.#position(src, startIndex);
    // CT leaves are not Rekor bodies: always read in full.
    const quick = src.kind === 'ct' ? undefined : this.#prefilter;
    while (st.position! < to) {
      const a: number = st.position!;
      const b = Math.min(to, a + chunk);
      const range: CompactRange = st.range!.clone();
      const found: Alert[] = [];
      let i: number = a;
      let unreadable = 0;
      try {
        for await (const batch of src.leaves(a, b)) {
          for (const leaf of batch) {
            range.append(leafHash(leaf));
            if (i >= from0 && (quick === undefined || quick.mayMatch(leaf))) {
              try {
                const m = this.#matcher.match(src.facts(leaf));
                if (m?.untrusted !== undefined)
                  this.#report({
                    level: 'warn',
                    log: src.url,
                    logIndex: src.firstIndex + i,
                    identity: m.identity,
                    notAlerted: `the entry's certificate names a watched identity, but no CA of the trusted root issued it: ${m.untrusted}`,
                  });
                else if (m)
                  found.push({
                    type: 'identity',
                    id: alertId(src.url, i, ...m.matches.map((x) => `${x.rule}=${x.value}`)),
                    log: src.url,
                    logIndex: src.firstIndex + i,
                    kind: m.kind,
                    identity: m.identity,
                    issuer: m.issuer,
                    artifactDigest: m.digest,
                    fingerprint: m.fingerprint,
                    matches: m.matches,
                    entryUrl: src.entryUrl(i, head.size),
                  });
              } catch (e) {
                if (e instanceof SignetError && e.kind === 'unsupported') unreadable++;
                else
                  found.push({
                    type: 'entry',
                    id: alertId(src.url, i, 'unreadable'),
                    log: src.url,
                    logIndex: src.firstIndex + i,
                    error: e instanceof Error ? e.message : String(e),
                    entryUrl: src.entryUrl(i, head.size),
                  });
              }
            }
            i++;
          }
        }
        if (i !== b)
          throw new SignetError('verification', 'LOG_ENTRIES', `read ${i - a} entries of ${b - a}`);
      } catch (e) {
        if (e instanceof SignetError && (e.code === 'TILE_SIZE' || e.code === 'LOG_ENTRIES'))
          return this.#problem(src, st, 'bad-tile', e.message, head, r);
        throw e;
      }
      // The entries read must be the signed tree's: the range's root at b leads to the head.
      try {
        const proof = b === head.size ? [] : await src.consistencyProof(b, head.size);
        verifyConsistency(b, head.size, proof, range.root(), head.rootHash);
      } catch (e) {
        if (e instanceof SignetError && e.kind !== 'verification') throw e;
        return this.#problem(
          src,
          st,
          'entries-do-not-match',
          `entries ${a}..${b - 1} of ${src.url} are not the ones in its signed tree: ${(e as Error).message}`,
          head,
          r,
        );
      }
      for (const alert of found) this.#state.pending.push({ alert, printed: false, delivered: [] });
      st.position = b;
      st.range = range;
      r.matched += found.length;
      r.entries += b - a;
      this.#save();
      if (unreadable > 0)
        this.#report({ level: 'warn', log: src.url, entries: `${a}..${b - 1}`, unreadable });
      r.errors += await this.#deliver();
    }
  }

  /**
   * Print pending alerts, append identities to `outputIdentities`, post them to the webhooks;
   * each sink's success is recorded. Returns failures.
   */
  async #deliver(): Promise<number> {
    let failed = 0;
    const hooks = this.#o.webhooks ?? [];
    const out = this.#o.config.outputIdentities;
    for (const p of [...this.#state.pending]) {
      if (!p.printed) {
        this.#print(JSON.stringify(p.alert));
        p.printed = true;
        this.#save();
      }
      const sinks = hooks.map((h) => h.url);
      if (out && p.alert.type === 'identity') {
        const sink = `file:${out.file}`;
        sinks.push(sink);
        if (!p.delivered.includes(sink) && !this.#downThisPass.has(sink))
          try {
            appendIdentities(out, p.alert, this.#o.config);
            p.delivered.push(sink);
            this.#save();
          } catch (e) {
            failed++;
            this.#downThisPass.add(sink);
            this.#report({
              level: 'warn',
              outputIdentities: out.file,
              error: describeSystemError(e, out.file),
            });
          }
      }
      for (const h of hooks) {
        if (p.delivered.includes(h.url) || this.#downThisPass.has(h.url)) continue;
        const ok = await postWebhook(h, p.alert, this.#o.webhookOptions, (m) =>
          this.#report({ level: 'warn', webhook: h.url, error: m }),
        );
        if (ok) {
          p.delivered.push(h.url);
          this.#save();
        } else {
          failed++;
          this.#downThisPass.add(h.url);
        }
      }
      if (sinks.every((s) => p.delivered.includes(s))) {
        this.#state.pending.splice(this.#state.pending.indexOf(p), 1);
        this.#save();
      }
    }
    return failed;
  }
}
