import { type HttpOptions, sendJson, trimSlash } from '../../services/http/outbound.ts';

/**
 * The plain (not TUF-verified) signing config a Signet stack serves at its root,
 * `/signing_config.json` (DESIGN.md "Running it"), as parsed JSON; the caller validates it with
 * the bundle layer's parser. Only where nothing rests on it being authentic (where to look for
 * a log entry, which is then verified against the trusted root; whether a server answers, for
 * git setup; a library caller that gave no TUF cache); use the TUF client where it must be.
 */
export async function fetchSigningConfigJson(
  server: string,
  opts: HttpOptions = {},
): Promise<unknown> {
  const url = `${trimSlash(server)}/signing_config.json`;
  return (await sendJson({ service: 'the trust server', method: 'GET', url }, opts)).json;
}
