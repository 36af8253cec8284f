import { SignetError } from '../../core/errors.ts';

/** Every problem getting an identity token: what is wrong, and what the user can do. */
export function tokenError(code: string, message: string, cause?: unknown): SignetError {
  return new SignetError('unauthorized', code, message, { cause });
}
