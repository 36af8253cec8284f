import type { ErrorCode } from '../../core/errors.ts';
import { SignetError } from '../../core/errors.ts';

/** Every problem getting an identity token: what is wrong, and what the user can do. */
export function tokenError(code: ErrorCode, message: string, cause?: unknown): SignetError {
  return new SignetError('unauthorized', code, message, { cause });
}
