/**
 * The monitor's state file (`--state`): per log the last verified tree head, how far the
 * entries have been read (with the compact range of the tree up to there), and alerts found but
 * not yet delivered everywhere. Written atomically after each verified step, so a restart
 * continues exactly where the last verified step ended: no entry skipped, no alert repeated.
 */
import { invalid, SignetError, describeSystemError } from '../../core/errors.ts';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { CompactRange } from '../../core/merkle/compact.ts';
import { writeFileAtomic } from '../../log/atomic-file.ts';
import type { Alert } from './alerts.ts';
import { parseJsonText } from '../../core/json.ts';
const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

export interface LogState {
  size: number;
  rootHash: Uint8Array;
  note: string;
  /** Next entry index to read (identity monitoring). */
  position: number | undefined;
  /** Compact range of [0, position); undefined until it is known. */
  range: CompactRange | undefined;
  /** The last log problem reported (so it is reported once, not on every pass). */
  problem: string | undefined;
}

export interface PendingAlert {
  alert: Alert;
  printed: boolean;
  /** Webhook URLs that took it, and `file:<path>` once written to `outputIdentities`. */
  delivered: string[];
}

export interface MonitorState {
  logs: Map<string, LogState>;
  pending: PendingAlert[];
  /**
   * The logs (state keys) that existed when this state began, and those it started on since.
   * A log that is in neither appeared later (a shard opened by a rotation): every entry in it
   * is newer than the state, so it is read from its first entry, not from its head. Undefined
   * in states written before it was kept (monitor.ts fills it in).
   */
  known: Set<string> | undefined;
}

interface StateJson {
  version: 1;
  logs: Record<
    string,
    {
      size: number;
      rootHash: string;
      note: string;
      position?: number;
      range?: string[];
      problem?: string;
    }
  >;
  pending: PendingAlert[];
  known?: string[];
}

/**
 * A log's key in the state: its log ID (the key of the trusted root), which stays when the log
 * is reached at another URL. State files written before were keyed by URL (monitor.ts reads
 * those once).
 */
export function logStateKey(logId: Uint8Array): string {
  return `logid:${toHex(logId)}`;
}

/** Whether the state has followed this log before (under its log ID or, from older files, its URL). */
export function stateFollows(state: MonitorState, logId: Uint8Array, url: string): boolean {
  return state.logs.has(logStateKey(logId)) || state.logs.has(url);
}

export function emptyState(): MonitorState {
  return { logs: new Map(), pending: [], known: undefined };
}

export function loadState(file: string | undefined): MonitorState {
  if (file === undefined) return emptyState();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw invalid('--state', describeSystemError(e, file));
  }
  try {
    const j = parseJsonText(text, '--state', file) as StateJson;
    if (j.version !== 1 || typeof j.logs !== 'object' || !Array.isArray(j.pending))
      throw new Error('not a signet monitor state (version 1)');
    if (
      j.known !== undefined &&
      !(Array.isArray(j.known) && j.known.every((k) => typeof k === 'string'))
    )
      throw new Error('its known logs are not a list of log keys');
    const logs = new Map<string, LogState>();
    for (const [url, l] of Object.entries(j.logs)) {
      if (!Number.isSafeInteger(l.size) || typeof l.note !== 'string')
        throw new Error(`the record of ${url} is malformed`);
      const range =
        l.range !== undefined && l.position !== undefined
          ? new CompactRange(
              l.position,
              l.range.map((h) => fromBase64(h, 'range')),
            )
          : undefined;
      logs.set(url, {
        size: l.size,
        rootHash: fromBase64(l.rootHash, 'rootHash'),
        note: l.note,
        position: l.position,
        range,
        problem: l.problem,
      });
    }
    return { logs, pending: j.pending, known: j.known && new Set(j.known) };
  } catch (e) {
    // Fail closed: starting over would re-read (and re-alert) or skip entries.
    throw new SignetError(
      'invalid-input',
      'MONITOR_STATE',
      `--state: ${file} is not a monitor state file (${(e as Error).message}); move it away to start afresh`,
    );
  }
}

export function saveState(file: string | undefined, s: MonitorState): void {
  if (file === undefined) return;
  const out: StateJson = {
    version: 1,
    logs: {},
    pending: s.pending,
    ...(s.known ? { known: [...s.known] } : {}),
  };
  for (const [url, l] of s.logs) {
    out.logs[url] = {
      size: l.size,
      rootHash: toBase64(l.rootHash),
      note: l.note,
      ...(l.position !== undefined ? { position: l.position } : {}),
      ...(l.range ? { range: l.range.hashes.map(toBase64) } : {}),
      ...(l.problem !== undefined ? { problem: l.problem } : {}),
    };
  }
  try {
    writeFileAtomic(file, `${JSON.stringify(out)}\n`);
  } catch (e) {
    throw invalid('--state', `cannot be written: ${describeSystemError(e, file)}`, e);
  }
}

/** Refuses a state file that could not be written, before any log is read. */
export function checkStateWritable(file: string | undefined): void {
  if (file === undefined) return;
  const dir = path.dirname(path.resolve(file));
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw invalid('--state', `cannot be written: ${describeSystemError(e, dir)}`, e);
  }
}
