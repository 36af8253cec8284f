import { type HttpOptions, sendJson, trimSlash } from '../../services/http/outbound.ts';

/**
 * The plain (not TUF-verified) trust documents a Signet stack serves at its root:
 * `/trusted_root.json` and `/signing_config.json` (DESIGN.md "Running it"). Returns the parsed
 * JSON; the caller validates it with the bundle layer's parsers. Use the TUF client where the
 * documents must be authenticated.
 */
export async function fetchTrustedRootJson(
  server: string,
  opts: HttpOptions = {},
): Promise<unknown> {
  const url = `${trimSlash(server)}/trusted_root.json`;
  return (await sendJson({ service: 'the trust server', method: 'GET', url }, opts)).json;
}

export async function fetchSigningConfigJson(
  server: string,
  opts: HttpOptions = {},
): Promise<unknown> {
  const url = `${trimSlash(server)}/signing_config.json`;
  return (await sendJson({ service: 'the trust server', method: 'GET', url }, opts)).json;
}
