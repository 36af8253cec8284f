/**
 * Identity for the CA: verify an OIDC identity token against the configured issuers and map it
 * to the Principal the certificate is built from.
 *
 *   const verifier = createIdentityVerifier(loadIssuerConfig('issuers.yaml'));
 *   const principal = await verifier.verify(token);
 */
export { createIdentityVerifier, ALLOWED_ALGORITHMS } from './verifier.ts';
export type { IdentityVerifierOptions } from './verifier.ts';
export { loadIssuerConfig, parseIssuerConfig, metaIssuerRegExp, ISSUER_TYPES } from './config.ts';
export type { IssuerConfig, IssuerEntry, IssuerType, CiProviderMetadata } from './config.ts';
export { BUILTIN_CI_PROVIDERS, EXTENSION_KEYS } from './ci-providers.ts';
export type * from './types.ts';
