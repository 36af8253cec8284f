import assert from 'node:assert/strict';

/** gRPC codes grpc-gateway answers with these HTTP statuses (runtime.HTTPStatusFromCode). */
export const GRPC_CODE: Record<number, number> = {
  400: 3, // InvalidArgument
  401: 16, // Unauthenticated
  404: 5, // NotFound
  405: 12, // Unimplemented (a frozen Rekor v2 shard)
  409: 6, // AlreadyExists
  413: 8, // ResourceExhausted
  415: 3, // InvalidArgument: the request's fault, no code of its own
  500: 13, // Internal
  503: 14, // Unavailable
};

/**
 * Whether the route at `urlPath` is one Sigstore serves through grpc-gateway: the CA (Fulcio)
 * and Rekor v2's write API (rekor-tiles), at the service URL or a shard's.
 */
export function isGrpcGatewayPath(urlPath: string): boolean {
  const p = urlPath.split('?')[0]!;
  return p.startsWith('/fulcio/') || /^\/rekor(\/shards\/\d+)?\/api\/v2\/log\/entries$/.test(p);
}

/**
 * An error body in the shape of the API at `urlPath`: the grpc-gateway APIs' (Fulcio, Rekor
 * v2 writes) is google.rpc.Status, `{code: <gRPC code>, message, details: []}`; every other
 * service answers `{code: <HTTP status>, message, error, field?}`.
 */
export function assertErrorShape(
  what: string,
  urlPath: string,
  status: number,
  body: Record<string, unknown>,
): void {
  assert.equal(typeof body.message, 'string', `${what}: message`);
  if (isGrpcGatewayPath(urlPath) && !BEFORE_ROUTING.has(String(body.error))) {
    assertGrpcShape(what, status, body);
    return;
  }
  assert.equal(body.code, status, `${what}: code is the status`);
  assert.equal(typeof body.error, 'string', `${what}: error`);
}

/** Exactly google.rpc.Status: the gRPC code for `status`, the message, empty details. */
export function assertGrpcShape(what: string, status: number, body: Record<string, unknown>) {
  assert.deepEqual(Object.keys(body), ['code', 'message', 'details'], `${what}: keys`);
  assert.equal(body.code, GRPC_CODE[status], `${what}: gRPC code for HTTP ${status}`);
  assert.deepEqual(body.details, [], `${what}: details`);
}

/** Answers made before a route is found (URL, method, no route): the project's shape there too. */
const BEFORE_ROUTING = new Set(['BAD_URL', 'METHOD_NOT_ALLOWED', 'NOT_FOUND']);
