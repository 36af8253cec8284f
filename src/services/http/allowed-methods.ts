import type { FastifyInstance } from 'fastify';

/**
 * The methods some route of `app` answers for the path of `url`, in fastify's order (GET, HEAD,
 * ...). Looked up with the router's own matching (parameters, wildcards, decoding), so a path is
 * "known" exactly when a request to it with one of these methods would be routed.
 */
export function allowedMethods(app: FastifyInstance, url: string): string[] {
  const path = url.split('?')[0] ?? url;
  return app.supportedMethods.filter((method) => app.findRoute({ method, url: path }) !== null);
}
