/**
 * Conditions in CEL (https://github.com/google/cel-spec), the language Kubernetes uses for
 * admission policies, through @marcbachmann/cel-js. An expression is parsed and type-checked
 * when the policy loads: it must compile against the declared inputs and return a bool.
 * Structural limits bound the cost of an expression (CEL has no loops beyond the bounded
 * comprehension macros, so a small AST is a bounded evaluation).
 */
import { Environment } from '@marcbachmann/cel-js';
import { invalid, verificationFailed } from '../../core/errors.ts';

/** What an attestation condition sees (README "Decide who may sign" lists them). */
const STATEMENT_INPUTS: Record<string, string> = {
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
const POLICY_INPUTS: Record<string, string> = {
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

const ENVIRONMENTS = {
  statement: environment(STATEMENT_INPUTS),
  policy: environment(POLICY_INPUTS),
};

export type CelScope = keyof typeof ENVIRONMENTS;

export interface CelCondition {
  source: string;
  /** Evaluates to a boolean; a runtime error (missing key, wrong type) is a failed condition. */
  evaluate(input: Record<string, unknown>): boolean;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]!
    .trim();
}

/** Compiles and type-checks `source`; errors name `field` and say what is wrong. */
export function compileCondition(source: string, scope: CelScope, field: string): CelCondition {
  if (source.trim() === '') throw invalid(field, 'is an empty CEL expression');
  const env = ENVIRONMENTS[scope];
  let checked;
  try {
    checked = env.check(source);
  } catch (e) {
    throw invalid(field, `CEL expression does not compile: ${firstLine(e)}`, e);
  }
  if (!checked.valid)
    throw invalid(field, `CEL expression does not compile: ${firstLine(checked.error)}`);
  if (checked.type !== 'bool' && checked.type !== 'dyn')
    throw invalid(
      field,
      `CEL expression returns ${checked.type}, not bool: a condition must be true or false`,
    );
  const program = env.parse(source);
  return {
    source,
    evaluate(input) {
      let out: unknown;
      try {
        out = program(input);
      } catch (e) {
        throw verificationFailed(
          'CONDITION_ERROR',
          `condition failed to evaluate: ${firstLine(e)}`,
        );
      }
      if (typeof out !== 'boolean')
        throw verificationFailed(
          'CONDITION_ERROR',
          `condition returned ${out === null ? 'null' : typeof out}, not a bool`,
        );
      return out;
    },
  };
}

/** Names the inputs of a scope, for messages and docs. */
export function conditionInputs(scope: CelScope): string[] {
  return Object.keys(scope === 'statement' ? STATEMENT_INPUTS : POLICY_INPUTS);
}
