import assert from 'node:assert/strict';
import { SignetError } from '../../../src/core/errors.ts';

/** The SignetError code `fn` throws, or 'ok'; anything else thrown fails the test. */
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    return e.code;
  }
  return 'ok';
}
