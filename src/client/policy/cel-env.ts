/**
 * The CEL environments conditions are checked and run in (@marcbachmann/cel-js): the declared
 * inputs of each scope and the structural limits. Shared by the loader (type-checking, main
 * thread) and the evaluation worker (cel-worker.ts), so both see the same language.
 */
import { Environment } from '@marcbachmann/cel-js';

/** What an attestation condition sees (README "Decide who may sign" lists them). */
export const STATEMENT_INPUTS: Record<string, string> = {
  statement: 'map',
  predicate: 'dyn',
  predicateType: 'string',
  subject: 'list',
  certificate: 'map',
  logTime: 'google.protobuf.Timestamp',
  times: 'list',
  artifact: 'map',
};

/** What a policy-level condition (spec.policy) sees. */
export const POLICY_INPUTS: Record<string, string> = {
  authorityMatches: 'map',
  artifact: 'map',
};

const LIMITS = {
  maxAstNodes: 2000,
  maxDepth: 64,
  maxListElements: 256,
  maxMapEntries: 256,
  maxCallArguments: 16,
};

function environment(inputs: Record<string, string>): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: false, limits: LIMITS });
  for (const [name, type] of Object.entries(inputs)) env.registerVariable(name, type);
  return env;
}

export const ENVIRONMENTS = {
  statement: environment(STATEMENT_INPUTS),
  policy: environment(POLICY_INPUTS),
};

export type CelScope = keyof typeof ENVIRONMENTS;

export function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]!
    .trim();
}

/**
 * What the sandbox's memory bound counts in an evaluator (cel-sandbox.ts): the JS heap in use
 * and the memory of the buffers outside it, where `bytes()` values live.
 */
export function memoryInUse(h: { used_heap_size: number; external_memory: number }): number {
  return h.used_heap_size + h.external_memory;
}
