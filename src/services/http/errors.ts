import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { type ErrorKind, SignetError } from '../../core/errors.ts';

const STATUS: Record<ErrorKind, number> = {
  'invalid-input': 400,
  unauthorized: 401,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  unsupported: 400,
  verification: 400,
  unavailable: 503,
  internal: 500,
};

/** The JSON error body every service answers with: `{code, message, error, field?}`. */
export interface ErrorBody {
  /** The HTTP status again (Rekor v1 clients read `code` and `message`). */
  code: number;
  message: string;
  /** Stable machine-readable reason, e.g. `INVALID_INPUT`, `BODY_TOO_LARGE`. */
  error: string;
  field?: string;
}

export function statusOf(err: SignetError): number {
  return STATUS[err.kind];
}

export function sendError(
  reply: FastifyReply,
  err: SignetError,
  status = statusOf(err),
): FastifyReply {
  const body: ErrorBody = { code: status, message: err.message, error: err.code };
  if (err.field) body.field = err.field;
  return reply.code(status).type('application/json').send(body);
}

/**
 * Installs the error handler: SignetErrors keep their kind's status; fastify's own parse and
 * size errors become clear messages (413 names the limit); anything else is a 500 whose
 * details go to the log only.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | SignetError | Error, request, reply) => {
    if (error instanceof SignetError) return sendError(reply, error);
    const fe = error as FastifyError;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 0;
      return sendError(
        reply,
        new SignetError(
          'too-large',
          'BODY_TOO_LARGE',
          `request body is larger than the limit of ${limit} bytes`,
        ),
      );
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendError(
        reply,
        new SignetError(
          'unsupported',
          'UNSUPPORTED_MEDIA_TYPE',
          `unsupported Content-Type: ${request.headers['content-type'] ?? '(none)'}`,
        ),
        415,
      );
    }
    if (
      fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      error instanceof SyntaxError
    ) {
      return sendError(
        reply,
        new SignetError(
          'invalid-input',
          'INVALID_JSON',
          `request body is not valid JSON: ${error.message}`,
        ),
      );
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendError(
        reply,
        new SignetError('invalid-input', fe.code ?? 'BAD_REQUEST', error.message),
        fe.statusCode,
      );
    }
    request.log.error({ err: error }, 'internal error');
    return sendError(reply, new SignetError('internal', 'INTERNAL', 'internal server error'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new SignetError(
        'not-found',
        'NOT_FOUND',
        `no route for ${request.method} ${request.url.split('?')[0]}`,
      ),
    ),
  );
}
