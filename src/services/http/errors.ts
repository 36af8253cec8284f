import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { type ErrorKind, quoteInput, SignetError } from '../../core/errors.ts';
import type { Logger } from '../types.ts';
import { allowedMethods } from './allowed-methods.ts';

const STATUS: Record<ErrorKind, number> = {
  'invalid-input': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  unsupported: 400,
  verification: 400,
  unavailable: 503,
  internal: 500,
};

/**
 * The JSON error body the services answer with, `{code, message, error, field?}`; the CA's
 * routes use grpc-gateway's (`grpcGatewayErrors`).
 */
export interface ErrorBody {
  /** The HTTP status again (Rekor v1 clients read `code` and `message`). */
  code: number;
  message: string;
  /** Stable machine-readable reason, e.g. `INVALID_INPUT`, `BODY_TOO_LARGE`. */
  error: string;
  field?: string;
}

export function statusOf(err: SignetError): number {
  // A body of a media type the route does not read is refused as such, wherever it is found.
  if (err.code === 'UNSUPPORTED_MEDIA_TYPE') return 415;
  return STATUS[err.kind];
}

/**
 * A request body of a media type the route does not read (415), in one line naming the
 * Content-Type it came with (or that it came with none) and what to send instead (`takes`).
 */
export function unsupportedContentType(header: string | undefined, takes: string): SignetError {
  const sent =
    header === undefined || header.trim() === ''
      ? 'no Content-Type'
      : `unsupported Content-Type ${quoteInput(header)}`;
  return new SignetError('unsupported', 'UNSUPPORTED_MEDIA_TYPE', `${sent}: send ${takes}`);
}

/**
 * Longest message an error body carries. Messages may quote what the client sent (a field, a
 * header); a 1 MB field must not come back as a 1 MB error.
 */
export const MAX_ERROR_MESSAGE = 1024;

/** `text` cut to `max` characters, saying how much was left out. */
export function capText(text: string, max = MAX_ERROR_MESSAGE): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}... (${text.length - max} more characters)`;
}

export function errorBody(err: SignetError, status = statusOf(err)): ErrorBody {
  const body: ErrorBody = { code: status, message: capText(err.message), error: err.code };
  if (err.field) body.field = capText(err.field, 256);
  return body;
}

/**
 * The error body of a grpc-gateway API (Fulcio's, Rekor v2's write API): google.rpc.Status in
 * protojson, `code` the gRPC code that grpc-gateway answers with `status`
 * (runtime.HTTPStatusFromCode), `details` written even when empty (EmitUnpopulated), as Fulcio
 * and rekor-tiles write it.
 */
export interface GrpcErrorBody {
  code: number;
  message: string;
  details: [];
}

/** gRPC codes by HTTP status: the inverse of grpc-gateway's HTTPStatusFromCode. */
const GRPC_CODE: Record<number, number> = {
  400: 3, // InvalidArgument
  401: 16, // Unauthenticated
  403: 7, // PermissionDenied
  404: 5, // NotFound
  405: 12, // Unimplemented (grpc-gateway's routing error for 405)
  409: 6, // AlreadyExists
  413: 8, // ResourceExhausted (gRPC's own code for a message over the size limit)
  429: 8, // ResourceExhausted
  499: 1, // Canceled
  500: 13, // Internal
  501: 12, // Unimplemented
  503: 14, // Unavailable
  504: 4, // DeadlineExceeded
};

export function grpcErrorBody(err: SignetError, status = statusOf(err)): GrpcErrorBody {
  // Other 4xx (415, 417, 431) are the request's fault: InvalidArgument; other 5xx Unknown.
  const code = GRPC_CODE[status] ?? (status < 500 ? 3 : 2);
  return { code, message: capText(err.message), details: [] };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `grpc`: the route's errors take grpc-gateway's shape (`GRPC_GATEWAY_ROUTE`). */
    errorShape?: 'grpc';
  }
}

/**
 * The config of a route that a grpc-gateway API serves in Sigstore (Fulcio; rekor-tiles'
 * `POST /api/v2/log/entries`): its errors are `{code: <gRPC code>, message, details: []}` with
 * the matching HTTP status, so clients written for it read them. The statuses and messages are
 * the same as elsewhere.
 */
export const GRPC_GATEWAY_ROUTE = { errorShape: 'grpc' } as const;

/** Every route registered after this in `app`'s scope is a grpc-gateway one (the CA's). */
export function grpcGatewayErrors(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, ...GRPC_GATEWAY_ROUTE };
  });
}

/** The one error rendering: the project's shape, or grpc-gateway's on routes that ask for it. */
export function sendError(
  reply: FastifyReply,
  err: SignetError,
  status = statusOf(err),
): FastifyReply {
  const grpc = reply.request.routeOptions.config?.errorShape === 'grpc';
  return reply
    .code(status)
    .type('application/json')
    .send(grpc ? grpcErrorBody(err, status) : errorBody(err, status));
}

/**
 * A page for a browser that met an error before any route took its request (a malformed or
 * too long URL) or that no route takes: the service that serves pages at that path sends it and
 * returns the reply; for any other path it returns undefined and the answer stays JSON.
 */
export type ErrorPage = (
  reply: FastifyReply,
  path: string,
  err: SignetError,
  status: number,
) => FastifyReply | undefined;

/** A browser's navigation asks for HTML; API clients (and the pages' own scripts) do not. */
function wantsPage(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/** The error as `page` renders it for a browser at this path, else in JSON. */
function answer(
  reply: FastifyReply,
  err: SignetError,
  status: number,
  page: ErrorPage | undefined,
): FastifyReply {
  if (page && wantsPage(reply.request.headers.accept)) {
    const sent = page(reply, reply.request.url.split('?')[0] ?? '', err, status);
    if (sent) return sent;
  }
  return sendError(reply, err, status);
}

/**
 * Installs the error handler: SignetErrors keep their kind's status (a body that is not JSON is
 * one, from json-body.ts); fastify's own size and media-type errors become clear messages (413
 * names the limit); anything else is a 500 whose details go to the log only. A request no route
 * takes gets `page`'s page if a browser asked.
 */
export function installErrorHandler(app: FastifyInstance, log?: Logger, page?: ErrorPage): void {
  app.setErrorHandler((error: FastifyError | SignetError | Error, request, reply) => {
    // A compressed body is read as it is (no service decodes one): whatever it failed as (not
    // JSON, not DER), the reason is the encoding. Only on this error path, never on success.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && !/^\s*identity\s*$/i.test(encoding) && isClientError(error))
      return sendError(
        reply,
        new SignetError(
          'unsupported',
          'UNSUPPORTED_MEDIA_TYPE',
          `Content-Encoding ${quoteInput(encoding)} is not supported: send the body uncompressed`,
          { field: 'Content-Encoding' },
        ),
        415,
      );
    if (error instanceof SignetError) {
      if (error.kind === 'internal')
        log?.error('internal error', {
          method: request.method,
          route: request.routeOptions.url ?? '(none)',
          requestId: request.id,
          error: capText(error.message),
        });
      return sendError(reply, error);
    }
    const fe = error as FastifyError;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 0;
      // fastify answers as soon as Content-Length is over the limit and closes the connection
      // while the client is still sending: the close then resets the connection, and a reset
      // can discard this 413 before the client reads it (the malformed-input run lost most of
      // them under load). Kept open, Node reads and drops the rest of the body (bounded by
      // the server's requestTimeout) and the client reads its answer.
      reply.removeHeader('connection');
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
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendError(
        reply,
        new SignetError('invalid-input', 'BAD_REQUEST', error.message, {
          details: { fastifyCode: fe.code },
        }),
        fe.statusCode,
      );
    }
    const detail = {
      method: request.method,
      route: request.routeOptions.url ?? '(none)',
      requestId: request.id,
      error: capText(error.message),
      stack: error.stack,
    };
    if (log) log.error('internal error', detail);
    else request.log.error({ err: error }, 'internal error');
    return sendError(reply, new SignetError('internal', 'INTERNAL', 'internal server error'));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // Not routed, yet served under other methods: not "not found" but RFC 9110 §15.5.6, 405
    // with the methods it takes in Allow.
    const allowed = allowedMethods(app, path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        new SignetError(
          'unsupported',
          'METHOD_NOT_ALLOWED',
          `${request.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`,
        ),
        405,
      );
    }
    return answer(
      reply,
      new SignetError('not-found', 'NOT_FOUND', `no route for ${request.method} ${path}`),
      404,
      page,
    );
  });
}

/**
 * The request's fault (its body or fields), except a body too large to read at all. Bodies are
 * read as JSON by json-body.ts, whose refusals are SignetErrors like the routes' own.
 */
function isClientError(error: FastifyError | SignetError | Error): boolean {
  if (!(error instanceof SignetError)) return false;
  const status = statusOf(error);
  return status >= 400 && status < 500 && status !== 413;
}

/**
 * Errors fastify meets before routing (a malformed URL escape such as `/rekor/%zz`, a path
 * segment over the router's limit, a bad header): answered in the project's shape rather than
 * fastify's (`frameworkErrors`), or with `page`'s page if a browser asked for one.
 */
export function frameworkError(
  error: FastifyError,
  reply: FastifyReply,
  page?: ErrorPage,
): FastifyReply {
  if (error.code === 'FST_ERR_BAD_URL')
    return answer(
      reply,
      new SignetError(
        'invalid-input',
        'BAD_URL',
        'the request URL is not valid: it has a malformed percent-escape',
      ),
      400,
      page,
    );
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
    // fastify's message quotes the whole path; the reason fits on one line without it.
    return answer(
      reply,
      new SignetError(
        'invalid-input',
        'URI_TOO_LONG',
        `the request path has a part longer than ${reply.server.initialConfig.maxParamLength ?? 100} characters, which no route takes`,
      ),
      414,
      page,
    );
  return answer(
    reply,
    new SignetError('invalid-input', 'BAD_REQUEST', error.message, {
      details: { fastifyCode: error.code },
    }),
    typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
      ? error.statusCode
      : 400,
    page,
  );
}

/** Node's HTTP parser refused the request (fastify's `clientErrorHandler`): answer in our shape. */
export function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return;
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    code: status,
    message: tooLarge
      ? 'the request headers are larger than the limit of 16384 bytes'
      : 'the request is not valid HTTP',
    error: tooLarge ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST',
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
