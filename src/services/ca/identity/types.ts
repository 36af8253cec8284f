/**
 * What the CA learns from a verified identity token (Fulcio's "Principal"). Produced by
 * services/ca/identity (token verification + issuer types), consumed by the certificate
 * builder, which encodes `san` and `extensions` exactly as Fulcio does.
 */
export type SubjectAltName =
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  /** OtherName with type-id 1.3.6.1.4.1.57264.1.7 (username issuers: `sub!domain`). */
  | { type: 'username'; value: string };

/**
 * Fulcio certificate extension values by the last arc of 1.3.6.1.4.1.57264.1.<n>
 * (1..6 raw-bytes legacy, 8..24 DER UTF8String). Only non-empty values are present;
 * 1 and 8 (issuer) are always set.
 */
export type FulcioExtensionValues = Partial<Record<number, string>>;

export interface Principal {
  /** The token's `iss` (or the issuer-claim value for federated email issuers). */
  issuer: string;
  /** The token's raw `sub`. */
  subject: string;
  /** What the proof of possession must sign: the email for email issuers, else `sub`. */
  challenge: string;
  san: SubjectAltName;
  extensions: FulcioExtensionValues;
}

export interface IdentityVerifier {
  /** Verifies the token and maps it to a Principal; throws SignetError ('unauthorized') saying which check failed. */
  verify(token: string): Promise<Principal>;
}

/**
 * One trusted issuer as Fulcio's `GET /api/v2/configuration` lists it (fulcio.proto
 * `OIDCIssuer`): exactly one of `issuerUrl` / `wildcardIssuerUrl`, and every other field even
 * when empty (Fulcio's gateway writes protojson with EmitUnpopulated).
 */
export interface OidcIssuerInfo {
  issuerUrl?: string;
  wildcardIssuerUrl?: string;
  audience: string;
  /** `email` for email issuers, else `sub`: what the proof of possession signs. */
  challengeClaim: string;
  spiffeTrustDomain: string;
  /** The config `type` (`email`, `ci-provider`, `kubernetes`, ...). */
  issuerType: string;
  subjectDomain: string;
  skipEmailVerification: boolean;
}
