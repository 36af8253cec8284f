/**
 * How the library's errors name its inputs: the code it shares with the CLI names an input by
 * its CLI flag unless told otherwise (client/input-names.ts); a library user passes options, not
 * flags, and reads about those.
 */
import type { SignInput } from '../client/sign/setup.ts';
import type { TrustInput } from '../client/verify/trust.ts';
import type { VerifyName } from '../client/verify/verifier.ts';

export const SIGN_NAMES: Record<SignInput, string> = {
  key: 'options.key',
  signingConfig: 'options.signingConfig',
  server: 'options.server',
  tufRoot: 'options.tufRoot',
  identityToken: 'options.identityToken',
  // the library has no provider option; ambient CI providers are tried in cosign's order
  oidcProvider: 'the OIDC provider',
};

export const TRUST_NAMES: Record<TrustInput, string> = {
  trustedRoot: 'options.trustedRoot',
  server: 'options.server',
  tufRoot: 'options.tufRoot',
};

/** verify()'s: what it verifies stays "the bundle"; the inputs a message points to are options. */
export const VERIFY_NAMES: Partial<Record<VerifyName, string>> = {
  key: 'keyPolicy(pem)',
  noTlog: 'tlogThreshold: 0',
  signedTimestamps: 'signedTimestampThreshold',
};
