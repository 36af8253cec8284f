import type { ServiceFactory, ServiceModule } from '../types.ts';
import { parseProviderConfig } from './config.ts';
import { OidcProvider } from './provider.ts';
import { registerOidcRoutes } from './routes.ts';

/**
 * The built-in identity provider as a stack service (mounted at `/oidc`), playing the role Dex
 * plays for public Sigstore. Configuration: the `oidc` section (see config.ts).
 */
export interface OidcServiceModule extends ServiceModule {
  provider: OidcProvider;
}

export const createOidcService: ServiceFactory<OidcServiceModule> = async (ctx) => {
  const provider = new OidcProvider({
    dataDir: ctx.dataDir,
    baseUrl: ctx.baseUrl,
    config: parseProviderConfig(ctx.config),
  });
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
};
