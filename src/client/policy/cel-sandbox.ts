/**
 * Runs a CEL condition with a wall-clock bound (issue: "evaluation is bounded in time"). The
 * library has structural limits but no cost or time limit, and a small expression can iterate
 * for hours (five nested `all` over 50-element lists), so evaluation happens on a worker thread
 * the caller waits for synchronously (Atomics.wait, as the engine is synchronous) until its
 * deadline; past it the thread is ended (Worker.terminate interrupts running JavaScript) and a
 * fresh one started for the next condition.
 */
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort,
} from 'node:worker_threads';
import type { CelScope } from './cel-env.ts';
import type { CelAnswer } from './cel-worker.ts';

interface Running {
  worker: Worker;
  port: MessagePort;
  state: Int32Array;
}

let running: Running | undefined;

function start(): Running {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(8);
  // Source runs as .ts (Node's type stripping); the built package as .js.
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const worker = new Worker(new URL(`./cel-worker.${ext}`, import.meta.url), {
    workerData: { port: port2, flag },
    transferList: [port2],
  });
  worker.unref();
  port1.unref();
  worker.on('error', () => {
    if (running?.worker === worker) running = undefined;
  });
  return { worker, port: port1, state: new Int32Array(flag) };
}

/** Starts the worker ahead of the first condition (policy load), so it is warm. */
export function warmCelSandbox(): void {
  running ??= start();
}

export type SandboxResult = CelAnswer | { ok: false; timedOut: true; error: string };

/** Evaluates `source` over `input`, giving up at `deadline` (epoch ms). */
export function runCondition(
  source: string,
  scope: CelScope,
  input: Record<string, unknown>,
  deadline: number,
): SandboxResult {
  const r = (running ??= start());
  // A worker still starting (policy load starts it; a stopped one is replaced at once) may use
  // what is left of the deadline, no more: the bound is on wall-clock time.
  if (Atomics.load(r.state, 1) !== 1) {
    Atomics.wait(r.state, 1, 0, Math.max(0, deadline - Date.now()));
    if (Atomics.load(r.state, 1) !== 1)
      return {
        ok: false,
        timedOut: true,
        error: 'did not finish before the deadline (its evaluator was still starting)',
      };
  }
  Atomics.store(r.state, 0, 0);
  try {
    r.port.postMessage({ source, scope, input });
  } catch (e) {
    return { ok: false, error: `its input cannot be passed to it: ${(e as Error).message}` };
  }
  const left = deadline - Date.now();
  if (left > 0) Atomics.wait(r.state, 0, 0, left);
  const msg = Atomics.load(r.state, 0) === 1 ? receiveMessageOnPort(r.port) : undefined;
  if (msg === undefined) {
    // Still running at the deadline: end it (and with it the evaluation), start afresh.
    void r.worker.terminate();
    r.port.close();
    running = start();
    return { ok: false, timedOut: true, error: 'did not finish before the deadline' };
  }
  return msg.message as CelAnswer;
}
