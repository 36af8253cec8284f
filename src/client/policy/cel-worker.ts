/**
 * The thread conditions run in (cel-sandbox.ts): a CEL evaluation is synchronous and its cost
 * depends on its input (nested comprehensions over a large predicate, a regexp over a long
 * string), so it runs here, where the caller can stop it at its deadline by ending the thread.
 * Protocol: once its environments are built, the thread posts `{ ready: true }`; then each job
 * arrives on the port with an id and its answer goes back with the same id. One job at a time:
 * the caller sends the next one when the answer has come. As a job starts, the thread writes the
 * memory it uses into the shared `memoryAtStart`, the base of the sandbox's memory bound.
 */
import { getHeapStatistics } from 'node:v8';
import { workerData, type MessagePort } from 'node:worker_threads';
import { environmentFor, firstLine, memoryInUse, type CelScope } from './cel-env.ts';

export interface CelJob {
  id: number;
  source: string;
  scope: CelScope;
  input: Record<string, unknown>;
}

export type CelAnswer = { ok: true; value: unknown; type: string } | { ok: false; error: string };

export type CelWorkerMessage = { ready: true } | { id: number; answer: CelAnswer };

const { port, memoryAtStart } = workerData as { port: MessagePort; memoryAtStart: Float64Array };
const programs = new Map<string, (input: Record<string, unknown>) => unknown>();

function program(source: string, scope: CelScope) {
  const key = `${scope}\u0000${source}`;
  let p = programs.get(key);
  if (!p) {
    p = environmentFor(scope).parse(source) as (input: Record<string, unknown>) => unknown;
    programs.set(key, p);
    if (programs.size > 1000) programs.delete(programs.keys().next().value!);
  }
  return p;
}

const post = (m: CelWorkerMessage) => port.postMessage(m);

port.on('message', (job: CelJob) => {
  // The input is in this thread now: the sandbox bounds what the condition adds to it.
  memoryAtStart[0] = memoryInUse(getHeapStatistics());
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
  post({ id: job.id, answer });
});
// The usual environments, made before the first job waits on them.
environmentFor('statement');
environmentFor('policy');
post({ ready: true });
