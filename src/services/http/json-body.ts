import type { FastifyInstance } from 'fastify';

/**
 * Reads every request body in this scope as JSON, whatever its Content-Type, as the servers
 * these APIs copy do: Fulcio's grpc-gateway falls back to its JSON marshaler for a media type it
 * has none for, and CTFE never looks at the header. So `curl -d @request.json` (which sends
 * application/x-www-form-urlencoded) works as it does against them, and a JSON body sent as
 * text/plain is read, not refused as "not a JSON object". Same parser (and limits) as
 * application/json.
 */
export function readBodiesAsJson(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', { parseAs: 'string' }, json);
}
