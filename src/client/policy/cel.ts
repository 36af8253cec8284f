/**
 * Conditions in CEL (https://github.com/google/cel-spec), the language Kubernetes uses for
 * admission policies, through @marcbachmann/cel-js. An expression is parsed and type-checked
 * when the policy loads: it must compile against the declared inputs and return a bool.
 * Structural limits bound its size (cel-env.ts); its running time is bounded by running it on
 * a worker thread that is ended at the evaluation's deadline (cel-sandbox.ts).
 */
import { invalid, SignetError, verificationFailed } from '../../core/errors.ts';
import {
  environmentFor,
  firstLine,
  PART_FLAGS,
  POLICY_INPUTS,
  POLICY_PARTS,
  scopeParts,
  STATEMENT_INPUTS,
  type CelScope,
} from './cel-env.ts';
import { runCondition, warmCelSandbox } from './cel-sandbox.ts';

export type { CelScope } from './cel-env.ts';

/** A condition with no evaluation deadline given still stops after this long. */
export const DEFAULT_CONDITION_MS = 10_000;

export interface CelCondition {
  source: string;
  /**
   * Evaluates to a boolean, on another thread (the caller's event loop stays free); a runtime
   * error (missing key, wrong type) is a failed condition, and so is growing the evaluator's
   * memory past the sandbox's bound. Running past `deadline` (epoch ms; default
   * DEFAULT_CONDITION_MS from now) is a SignetError EVALUATION_TIMEOUT.
   */
  evaluate(input: Record<string, unknown>, deadline?: number): Promise<boolean>;
}

/** An unknown variable that is a part the policy did not include: say which flag includes it. */
function partHint(error: unknown, scope: CelScope): string {
  const name = /Unknown variable: (\w+)/.exec(firstLine(error))?.[1];
  const part = POLICY_PARTS.find((p) => p === name);
  if (part === undefined) return '';
  return scope === 'statement'
    ? ` (${part} is seen by spec.policy with ${PART_FLAGS[part]}: true, not by an attestation's condition)`
    : ` (${part} is seen only with ${PART_FLAGS[part]}: true in spec.policy)`;
}

/** Compiles and type-checks `source`; errors name `field` and say what is wrong. */
export function compileCondition(source: string, scope: CelScope, field: string): CelCondition {
  if (source.trim() === '') throw invalid(field, 'is an empty CEL expression');
  const env = environmentFor(scope);
  let checked;
  try {
    checked = env.check(source);
  } catch (e) {
    throw invalid(field, `CEL expression does not compile: ${firstLine(e)}`, e);
  }
  if (!checked.valid)
    throw invalid(
      field,
      `CEL expression does not compile: ${firstLine(checked.error)}${partHint(checked.error, scope)}`,
    );
  if (checked.type !== 'bool' && checked.type !== 'dyn')
    throw invalid(
      field,
      `CEL expression returns ${checked.type}, not bool: a condition must be true or false`,
    );
  warmCelSandbox();
  return {
    source,
    async evaluate(input, deadline = Date.now() + DEFAULT_CONDITION_MS) {
      const r = await runCondition(source, scope, input, deadline);
      if (!r.ok) {
        if ('timedOut' in r)
          throw new SignetError(
            'verification',
            'EVALUATION_TIMEOUT',
            `condition ${r.error} (evaluation is bounded in time)`,
          );
        throw verificationFailed('CONDITION_ERROR', `condition failed to evaluate: ${r.error}`);
      }
      if (typeof r.value !== 'boolean')
        throw verificationFailed('CONDITION_ERROR', `condition returned ${r.type}, not a bool`);
      return r.value;
    },
  };
}

/** Names the inputs of a scope, for messages and docs. */
export function conditionInputs(scope: CelScope): string[] {
  return scope === 'statement'
    ? Object.keys(STATEMENT_INPUTS)
    : [...Object.keys(POLICY_INPUTS), ...scopeParts(scope)];
}
