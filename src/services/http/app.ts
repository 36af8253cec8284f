import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { quoteInput } from '../../core/errors.ts';
import type { Logger } from '../types.ts';
import { clientError, type ErrorPage, frameworkError, installErrorHandler } from './errors.ts';
import { readJsonBodiesStrictly } from './json-body.ts';

export interface HttpAppOptions {
  /** Default body limit in bytes (routes may set their own). Fulcio and Rekor v2 use 4 MiB. */
  bodyLimit?: number;
  logger?: boolean;
  /** Where internal errors (500s) are logged, with the request's method, route and id. */
  log?: Logger;
  /**
   * The page a browser gets for a URL no route takes or that fails before routing, at the
   * paths a service serves pages at (the explorer's); JSON everywhere else and for API clients.
   */
  errorPage?: ErrorPage;
}

/** A fastify instance with the project's error handling, not yet listening. */
export function createApp(
  opts: HttpAppOptions = {},
  serverFactory?: () => http.Server,
): FastifyInstance {
  let app: FastifyInstance;
  const common = {
    bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024,
    logger: opts.logger ?? false,
    // Errors from malformed requests go to our handler rather than a default HTML page.
    return503OnClosing: true,
    forceCloseConnections: true,
    frameworkErrors: (error: FastifyError, _req: FastifyRequest, reply: FastifyReply) =>
      frameworkError(error, reply, opts.errorPage),
    // Requests Node's parser refuses (headers over 16 KiB, malformed HTTP): the same shape.
    clientErrorHandler: clientError,
  };
  if (serverFactory) {
    app = Fastify({
      ...common,
      serverFactory: (handler) => {
        const server = serverFactory();
        server.on('request', handler);
        return server;
      },
    });
  } else {
    app = Fastify(common);
  }
  installErrorHandler(app, opts.log, opts.errorPage);
  // Every JSON request body, in every scope, is read by the services' one strict reader
  // (json-body.ts), never by fastify's own, which keeps the last of a repeated key.
  readJsonBodiesStrictly(app);
  return app;
}

/**
 * Binds a plain HTTP server first, so the real port (with `--port 0`) and thus the public base
 * URL are known before services are created; fastify then serves on that server.
 */
export async function bindServer(
  port: number,
  host: string,
  /** Answers requests until the app takes over (the stack's "starting" 503). */
  initial?: http.RequestListener,
): Promise<{ server: http.Server; url: string }> {
  const server = initial ? http.createServer(initial) : http.createServer();
  // An Expect other than 100-continue: Node's own 417 has no body; answer in the project's shape.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = JSON.stringify({
      code: 417,
      message: `Expect ${quoteInput(req.headers.expect)} is not supported (only 100-continue is)`,
      error: 'UNSUPPORTED',
      field: 'Expect',
    });
    res.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { server, url: `http://${h}:${addr.port}` };
}
