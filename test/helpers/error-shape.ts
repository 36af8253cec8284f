import assert from 'node:assert/strict';

/** gRPC codes grpc-gateway answers with these HTTP statuses (runtime.HTTPStatusFromCode). */
const GRPC_CODE: Record<number, number> = {
  400: 3, // InvalidArgument
  401: 16, // Unauthenticated
  404: 5, // NotFound
  413: 8, // ResourceExhausted
  415: 3, // InvalidArgument: the request's fault, no code of its own
  500: 13, // Internal
  503: 14, // Unavailable
};

/**
 * An error body in the shape of the API at `urlPath`: the CA's (Fulcio's grpc-gateway API)
 * is google.rpc.Status, `{code: <gRPC code>, message, details: []}`; every other service
 * answers `{code: <HTTP status>, message, error, field?}`.
 */
export function assertErrorShape(
  what: string,
  urlPath: string,
  status: number,
  body: Record<string, unknown>,
): void {
  assert.equal(typeof body.message, 'string', `${what}: message`);
  if (urlPath.startsWith('/fulcio/')) {
    assert.deepEqual(Object.keys(body), ['code', 'message', 'details'], `${what}: keys`);
    assert.equal(body.code, GRPC_CODE[status], `${what}: gRPC code for HTTP ${status}`);
    assert.deepEqual(body.details, [], `${what}: details`);
    return;
  }
  assert.equal(body.code, status, `${what}: code is the status`);
  assert.equal(typeof body.error, 'string', `${what}: error`);
}
