/**
 * Runs CEL conditions with a wall-clock bound (issue: "evaluation is bounded in time"). The
 * library has structural limits but no cost or time limit, and a small expression can iterate
 * for hours (five nested `all` over 50-element lists), so evaluation happens on worker threads
 * and the caller awaits the answer until its deadline; past it the thread is ended
 * (Worker.terminate interrupts running JavaScript) and another is started when next needed.
 *
 * Memory is bounded the same way: while a condition runs, its evaluator's memory (the JS heap
 * and the buffers outside it, which `bytes()` values live in) is read every MEMORY_CHECK_MS and
 * the thread is ended once the condition has grown it by EVALUATOR_MEMORY_MB (or the bound set
 * with setEvaluatorMemoryLimit) beyond what it held when the condition started, its input
 * included (an SBOM predicate can be large; the growth is what the expression builds). Worker `resourceLimits` would be the obvious tool,
 * but its termination is best-effort: one array grown by push, which is what a CEL `map`
 * builds, aborts the whole process instead (nodejs/node#47224).
 *
 * The caller's event loop stays free meanwhile: an admission webhook goes on answering other
 * reviews (cached decisions, policies without conditions) while one condition runs long. And
 * a second evaluator is started when a condition comes while the first is busy, so one slow
 * condition does not hold up the conditions of other reviews; beyond POOL_SIZE they wait their
 * turn, within their own deadlines. A command evaluates one condition at a time and starts one.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { memoryInUse, type CelScope } from './cel-env.ts';
import type { CelAnswer, CelJob, CelWorkerMessage } from './cel-worker.ts';

/** Evaluator threads at most: one busy with a slow condition leaves one for the others. */
export const POOL_SIZE = 2;

/**
 * How much a condition may grow its evaluator's memory by default. Without a bound, one that
 * builds lists of lists grows the heap by ~150 MB a second, and one that converts a large string
 * to bytes in nested `map`s grows the memory outside it by ~450 MB a second, until the deadline
 * (gigabytes in the 9 s an admission review allows).
 */
export const EVALUATOR_MEMORY_MB = 256;
let evaluatorMemoryMb = EVALUATOR_MEMORY_MB;
const MEMORY_CHECK_MS = 100;

/**
 * Sets the bound for conditions started from now on (`signet admission --cel-memory`): a
 * webhook under a tight container memory limit needs a lower one. The evaluators are shared by
 * the process, and so is their bound.
 */
export function setEvaluatorMemoryLimit(mb: number): void {
  if (!Number.isInteger(mb) || mb < 1) throw new RangeError(`${mb} is not a whole number of MB`);
  evaluatorMemoryMb = mb;
}

export type SandboxResult = CelAnswer | { ok: false; timedOut: true; error: string };

interface Evaluator {
  worker: Worker;
  port: MessagePort;
  /** Its environments are built and it listens (it said so). */
  ready: boolean;
  running: Pending | undefined;
  /** Written by the evaluator as it starts a condition: its memoryInUse then, input included. */
  memoryAtStart: Float64Array;
}

interface Pending {
  job: CelJob;
  deadline: number;
  settle: (r: SandboxResult) => void;
  timer: NodeJS.Timeout | undefined;
  on: Evaluator | undefined;
}

const evaluators = new Set<Evaluator>();
/** Conditions waiting for a free evaluator, oldest first. */
const waiting: Pending[] = [];
let nextId = 1;

function start(): Evaluator {
  const { port1, port2 } = new MessageChannel();
  const memoryAtStart = new Float64Array(new SharedArrayBuffer(8));
  // Source runs as .ts (Node's type stripping); the built package as .js.
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const worker = new Worker(new URL(`./cel-worker.${ext}`, import.meta.url), {
    workerData: { port: port2, memoryAtStart },
    transferList: [port2],
  });
  const ev: Evaluator = { worker, port: port1, ready: false, running: undefined, memoryAtStart };
  evaluators.add(ev);
  port1.on('message', (m: CelWorkerMessage) => {
    if ('ready' in m) ev.ready = true;
    else if (ev.running?.job.id === m.id) {
      const p = ev.running;
      ev.running = undefined;
      settle(p, m.answer);
    }
    dispatch();
  });
  // An idle evaluator keeps no process alive; a condition being evaluated does, by its timer.
  // (Listening refs a port, so unref after.)
  worker.unref();
  port1.unref();
  const lost = (why: string) => {
    if (!evaluators.delete(ev)) return; // ended at a deadline: already replaced
    port1.close();
    const p = ev.running;
    ev.running = undefined;
    if (p) settle(p, { ok: false, error: `its evaluator stopped (${why})` });
    // One that never started would not start again (a missing module): the waiting conditions
    // fail with the reason rather than start thread after thread until their deadlines.
    if (!ev.ready)
      for (const w of waiting.splice(0))
        settle(w, { ok: false, error: `its evaluator did not start (${why})` });
    dispatch();
  };
  worker.on('error', (e) => lost(e.message));
  worker.on('exit', (code) => lost(`exit code ${code}`));
  return ev;
}

function settle(p: Pending, r: SandboxResult): void {
  clearTimeout(p.timer);
  p.settle(r);
}

/** Hands waiting conditions to free evaluators, starting one when all are busy. */
function dispatch(): void {
  while (waiting.length > 0) {
    let free: Evaluator | undefined;
    let starting = false;
    for (const ev of evaluators) {
      if (!ev.ready) starting = true;
      else if (!ev.running) free = ev;
    }
    if (!free) {
      if (!starting && evaluators.size < POOL_SIZE) start();
      return;
    }
    const p = waiting.shift()!;
    free.memoryAtStart[0] = NaN; // until the evaluator has the input: no reading counts
    try {
      free.port.postMessage(p.job);
    } catch (e) {
      settle(p, { ok: false, error: `its input cannot be passed to it: ${(e as Error).message}` });
      continue;
    }
    free.running = p;
    p.on = free;
    memoryCheck ??= setInterval(checkMemory, MEMORY_CHECK_MS).unref();
  }
}

/** Node's timers hold at most 2^31 - 1 ms (a longer one fires at once, with a warning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function arm(p: Pending): void {
  p.timer = setTimeout(() => expire(p), Math.min(MAX_TIMER_MS, p.deadline - Date.now()));
}

/** At the deadline: a waiting condition gives up; a running one ends its evaluator. */
function expire(p: Pending): void {
  if (Date.now() < p.deadline) return arm(p); // a deadline beyond one timer's reach
  const i = waiting.indexOf(p);
  if (i >= 0) {
    waiting.splice(i, 1);
    p.settle({
      ok: false,
      timedOut: true,
      error: 'did not finish before the deadline (it was still waiting for an evaluator)',
    });
    return;
  }
  const ev = p.on;
  if (!ev || ev.running !== p) return; // answered in the meantime
  end(ev, { ok: false, timedOut: true, error: 'did not finish before the deadline' });
}

/** Ends the evaluator running a condition, which settles with `r`. */
function end(ev: Evaluator, r: SandboxResult): void {
  const p = ev.running!;
  evaluators.delete(ev);
  ev.running = undefined;
  ev.port.close();
  void ev.worker.terminate();
  settle(p, r);
  warmCelSandbox(); // the next condition should not wait for a thread to start
  dispatch();
}

let memoryCheck: NodeJS.Timeout | undefined;

/** Reads the memory of each evaluator running a condition, while any is. */
function checkMemory(): void {
  let running = false;
  for (const ev of evaluators) {
    const p = ev.running;
    if (!p) continue;
    running = true;
    // Answered on the worker's thread between two steps of its JavaScript, busy or not.
    ev.worker.getHeapStatistics().then(
      (h) => {
        // Read after the reading: a start written meanwhile is later than it, so the growth
        // is never overstated.
        const grown = memoryInUse(h) - ev.memoryAtStart[0]!;
        if (ev.running === p && grown > evaluatorMemoryMb * 2 ** 20)
          end(ev, {
            ok: false,
            error: `used more than ${evaluatorMemoryMb} MB of memory (evaluation is bounded in memory)`,
          });
      },
      () => {}, // the thread ended meanwhile: its 'exit' settles the condition
    );
  }
  if (!running) {
    clearInterval(memoryCheck);
    memoryCheck = undefined;
  }
}

/** Starts an evaluator ahead of the first condition (policy load), so it is warm. */
export function warmCelSandbox(): void {
  if (evaluators.size === 0) start();
}

/** Evaluates `source` over `input`; settles by `deadline` (epoch ms) at the latest. */
export function runCondition(
  source: string,
  scope: CelScope,
  input: Record<string, unknown>,
  deadline: number,
): Promise<SandboxResult> {
  if (deadline <= Date.now())
    return Promise.resolve({
      ok: false,
      timedOut: true,
      error: 'did not start before the deadline',
    });
  return new Promise((resolve) => {
    const p: Pending = {
      job: { id: nextId++, source, scope, input },
      deadline,
      settle: resolve,
      timer: undefined,
      on: undefined,
    };
    arm(p);
    waiting.push(p);
    dispatch();
  });
}
