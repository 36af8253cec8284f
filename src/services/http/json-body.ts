import type { FastifyInstance } from 'fastify';
import { unsupportedContentType } from './errors.ts';

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

/**
 * Reads request bodies in this scope as JSON only (application/json, with or without
 * parameters): a body of any other type, or sent without a Content-Type, is a 415 that names the
 * type it came as and says to send application/json, before it is read. Rekor v1 (go-swagger)
 * answers so too; fastify's own text/plain parser handed the route a string, refused as "must
 * be a JSON object", which named neither.
 */
export function readBodiesOnlyAsJson(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', (req, _payload, done) =>
    done(unsupportedContentType(req.headers['content-type'], 'application/json'), undefined),
  );
}
