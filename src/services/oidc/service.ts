import type { ServiceDefinition, ServiceModule, StackContext } from '../types.ts';
import { type ProviderConfig, parseProviderConfig } from './config.ts';
import { OidcProvider } from './provider.ts';
import { registerOidcRoutes } from './routes.ts';

/**
 * The built-in identity provider as a stack service (mounted at `/oidc`), playing the role Dex
 * plays for public Sigstore. Configuration: the `oidc` section (see config.ts).
 */
export interface OidcServiceModule extends ServiceModule {
  provider: OidcProvider;
}

export const oidcService: ServiceDefinition<'oidc'> = {
  parse: (section) => parseProviderConfig(section),
  create: createOidcService,
};

export async function createOidcService(
  ctx: StackContext,
  config: ProviderConfig,
): Promise<OidcServiceModule> {
  const provider = new OidcProvider({ dataDir: ctx.dataDir, baseUrl: ctx.baseUrl, config });
  const mod: OidcServiceModule = {
    name: 'oidc',
    prefix: '/oidc',
    provider,
    async register(app) {
      await registerOidcRoutes(app, provider);
    },
    signingConfig() {
      // SigningConfig v0.2 `oidcUrls` (protobuf-specs Service).
      return {
        oidcUrls: [
          {
            url: provider.root,
            majorApiVersion: 1,
            validFor: { start: provider.since.toISOString() },
            operator: 'signet',
          },
        ],
      };
    },
    async close() {},
  };
  return mod;
}
