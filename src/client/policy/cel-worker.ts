/**
 * The thread conditions run in (cel-sandbox.ts): a CEL evaluation is synchronous and its cost
 * depends on its input (nested comprehensions over a large predicate, a regexp over a long
 * string), so it runs here, where the caller can stop it at its deadline by ending the thread.
 * Protocol: a job arrives on the port; the answer is posted back and `flag[0]` set to 1 and
 * notified, so the caller, blocked in Atomics.wait, wakes and reads it synchronously.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { ENVIRONMENTS, firstLine, type CelScope } from './cel-env.ts';

interface Job {
  source: string;
  scope: CelScope;
  input: Record<string, unknown>;
}

export type CelAnswer = { ok: true; value: unknown; type: string } | { ok: false; error: string };

const { port, flag } = workerData as { port: MessagePort; flag: SharedArrayBuffer };
const state = new Int32Array(flag);
const programs = new Map<string, (input: Record<string, unknown>) => unknown>();

function program(source: string, scope: CelScope) {
  const key = `${scope}\u0000${source}`;
  let p = programs.get(key);
  if (!p) {
    p = ENVIRONMENTS[scope].parse(source) as (input: Record<string, unknown>) => unknown;
    programs.set(key, p);
    if (programs.size > 1000) programs.delete(programs.keys().next().value!);
  }
  return p;
}

port.on('message', (job: Job) => {
  let answer: CelAnswer;
  try {
    const out = program(job.source, job.scope)(job.input);
    answer = {
      ok: true,
      value: typeof out === 'boolean' ? out : null,
      type: out === null ? 'null' : typeof out,
    };
  } catch (e) {
    answer = { ok: false, error: firstLine(e) };
  }
  port.postMessage(answer);
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
});
// Ready: the environments are built and the port listens.
Atomics.store(state, 1, 1);
Atomics.notify(state, 1);
