import type { FastifyInstance, FastifyRequest } from 'fastify';
import { reasonOf, SignetError } from '../../core/errors.ts';
import { parseJsonText } from '../../core/json.ts';
import { unsupportedContentType } from './errors.ts';

/**
 * A request body as JSON: the one reader of every service's JSON request bodies (the CA, the
 * CT log, Rekor v1 and v2, the TSA's JSON form, the explorer's API, the identity provider's
 * token endpoints), built on the project's strict reader, parseJsonText. An object with the
 * same key twice is refused, naming the key: fastify's own parser (secure-json-parse, i.e.
 * JSON.parse) kept the last value, so `{"credentials": {"oidcIdentityToken": "x",
 * "oidcIdentityToken": "<token>"}}` was read as the second token while a reader that keeps the
 * first (a proxy, a policy check, a log of the request) saw another request. Fulcio's and
 * rekor-tiles' protojson refuse a repeated field too; Rekor v1's go-swagger (encoding/json)
 * would take the last value, but refusing is safer there as well: what Signet logs is built
 * from the values it read, and a body that two JSON readers read differently has no one
 * meaning to log or to sign. A syntax error says what and where (jsonProblem), where fastify
 * said only "a syntax error".
 *
 * Keys such as "__proto__" and "constructor" are kept as the ordinary own properties
 * JSON.parse makes of them: no route copies a request object into another with Object.assign
 * or for-in (object spread, as the identity provider's parameters are merged, defines own
 * properties), so none reaches a prototype. Each typed reader takes them as the unknown fields
 * they are: refused, naming the key, where the API refuses unknown fields (Rekor v1 and v2,
 * the TSA, the explorer), ignored where it ignores them (Fulcio's grpc-gateway, CTFE), where
 * fastify's parser called the body "not valid JSON (a syntax error)".
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw notJson('is not valid JSON (it is empty)');
  try {
    // A leading byte order mark is read as whitespace, as fastify's parser skipped it (RFC
    // 8259 §8.1 lets a reader ignore it); a space keeps the positions errors name.
    return parseJsonText(
      text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text,
      'request body',
    );
  } catch (e) {
    throw notJson(reasonOf(e), e);
  }
}

function notJson(reason: string, cause?: unknown): SignetError {
  return new SignetError('invalid-input', 'INVALID_JSON', `request body ${reason}`, { cause });
}

/** parseJsonBody as a fastify content-type parser (`parseAs: 'string'`). */
function jsonBodyParser(
  _req: FastifyRequest,
  body: string | Buffer,
  done: (err: Error | null, body?: unknown) => void,
): void {
  let value: unknown;
  try {
    value = parseJsonBody(body as string);
  } catch (e) {
    done(e as Error, undefined);
    return;
  }
  done(null, value);
}

/**
 * Reads application/json bodies (with or without parameters) with parseJsonBody in this scope
 * and every scope under it: createApp calls it, so no service meets fastify's own JSON parser.
 * Same body limit as the parser it replaces (the instance's, or the route's).
 */
export function readJsonBodiesStrictly(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser);
}

/**
 * Reads every request body in this scope as JSON, whatever its Content-Type, as the servers
 * these APIs copy do: Fulcio's grpc-gateway falls back to its JSON marshaler for a media type it
 * has none for, and CTFE never looks at the header. So `curl -d @request.json` (which sends
 * application/x-www-form-urlencoded) works as it does against them, and a JSON body sent as
 * text/plain is read, not refused as "not a JSON object". Same parser (and limits) as
 * application/json.
 */
export function readBodiesAsJson(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', { parseAs: 'string' }, jsonBodyParser);
}

/**
 * Reads request bodies in this scope as JSON only (application/json, with or without
 * parameters, read by parseJsonBody): a body of any other type, or sent without a Content-Type,
 * is a 415 that names the type it came as and says to send application/json, before it is
 * read. Rekor v1 (go-swagger) answers so too; fastify's own text/plain parser handed the route
 * a string, refused as "must be a JSON object", which named neither.
 */
export function readBodiesOnlyAsJson(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', (req, _payload, done) =>
    done(unsupportedContentType(req.headers['content-type'], 'application/json'), undefined),
  );
}
