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

/**
 * What a policy-level condition may also see, each when its policy asks, under
 * policy-controller's names: the admitted Kubernetes object's `spec`, `metadata` and `typemeta`
 * (apiVersion, kind) (includeSpec, includeObjectMeta, includeTypeMeta; null outside
 * admission), and the image's `config` files by platform (fetchConfigFile; null for files and
 * commits).
 */
export const POLICY_PARTS = ['spec', 'metadata', 'typemeta', 'config'] as const;
export type PolicyPart = (typeof POLICY_PARTS)[number];
/** The spec.policy field that includes each part (policy-controller's names). */
export const PART_FLAGS: Record<PolicyPart, string> = {
  spec: 'includeSpec',
  metadata: 'includeObjectMeta',
  typemeta: 'includeTypeMeta',
  config: 'fetchConfigFile',
};

/** The parts that come from the admitted object. */
export type ObjectPart = Exclude<PolicyPart, 'config'>;

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

/**
 * Where a condition is written: an attestation's (`statement`), or a policy's, with the parts
 * it included (`policy+metadata+spec`): a condition naming a part its policy did not include
 * does not compile.
 */
export type CelScope = 'statement' | 'policy' | `policy+${string}`;

/** The scope of a policy-level condition that sees `parts`. */
export function policyScope(parts: readonly PolicyPart[]): CelScope {
  return parts.length === 0 ? 'policy' : `policy+${[...parts].sort().join('+')}`;
}

/** The parts a policy scope includes. */
export function scopeParts(scope: CelScope): PolicyPart[] {
  if (!scope.startsWith('policy+')) return [];
  const parts = scope.slice('policy+'.length).split('+');
  for (const p of parts)
    if (!(POLICY_PARTS as readonly string[]).includes(p))
      throw new Error(`${p} is not a policy condition's input`);
  return parts as PolicyPart[];
}

const environments = new Map<CelScope, Environment>();

/** The environment of `scope`, made once. */
export function environmentFor(scope: CelScope): Environment {
  let env = environments.get(scope);
  if (!env) {
    const inputs =
      scope === 'statement'
        ? STATEMENT_INPUTS
        : {
            ...POLICY_INPUTS,
            ...Object.fromEntries(scopeParts(scope).map((p) => [p, 'dyn'])),
          };
    env = environment(inputs);
    environments.set(scope, env);
  }
  return env;
}

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
