import type { Logger } from './types.ts';
import { printable } from '../core/encoding/printable.ts';

/** Buffered info lines are written at the latest when they reach this many bytes. */
const FLUSH_BYTES = 64 * 1024;

/** Loggers with lines not yet written, flushed on exit. */
const unflushed = new Set<() => void>();
let exitHook = false;

/**
 * Structured logs: one JSON object per line on stderr, so stdout stays for people.
 *
 * Info lines (the access log writes one per request) are collected and written once per
 * event-loop turn: process.stderr writes synchronously to files and pipes, and one write
 * system call per request cost more than the rest of the line. Nothing is held longer than
 * that turn (or FLUSH_BYTES); a warning or an error writes what is pending first, then itself
 * at once, so lines keep their order; pending lines are written when the process exits.
 */
export function jsonLogger(stream: NodeJS.WritableStream = process.stderr, quiet = false): Logger {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    unflushed.delete(flush);
    if (pending === '') return;
    const text = pending;
    pending = '';
    stream.write(text);
  };
  if (!exitHook) {
    exitHook = true;
    // 'exit' listeners run synchronously; stderr's writes are synchronous, so nothing is lost.
    process.on('exit', () => unflushed.forEach((f) => f()));
  }
  const line = (level: string, msg: string, fields?: Record<string, unknown>) =>
    `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`;
  // Warnings and errors may quote what a client sent (an internal error's message): JSON
  // escapes controls below U+0020 only, so the rest of what does not show as itself (C1,
  // bidi overrides, U+2028) is escaped too, for whoever tails the log on a terminal. The
  // escapes are JSON's, so the line stays JSON. Info lines are the access log, built from
  // the route pattern and generated ids only.
  const loud = (level: string, msg: string, fields?: Record<string, unknown>) =>
    `${printable(line(level, msg, fields).slice(0, -1))}\n`;
  return {
    info: (m, f) => {
      if (quiet) return;
      pending += line('info', m, f);
      if (pending.length >= FLUSH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        unflushed.add(flush);
        setImmediate(flush).unref();
      }
    },
    warn: (m, f) => {
      pending += loud('warn', m, f);
      flush();
    },
    error: (m, f) => {
      pending += loud('error', m, f);
      flush();
    },
  };
}
