import type { DigestVerification } from '../crypto/verify.ts';

/** The entry kinds Signet's log accepts (Rekor v1 and v2 names). */
export type EntryKind = 'hashedrekord' | 'dsse' | 'intoto';

/**
 * A proposed entry turned into what the log stores: the canonical body (the Merkle leaf), the
 * search keys and the signature checks that must pass before admission.
 */
export interface ParsedEntry {
  kind: EntryKind;
  apiVersion: string;
  /** The canonical body (JCS), byte-exact as Rekor makes it: the log leaf. */
  body: Uint8Array;
  /** Index keys (see verifier.ts and each kind) stored atomically with the entry. */
  searchKeys: string[];
  /** intoto 0.0.2: the decoded attestation (DSSE payload) Rekor v1 returns as attestation.data. */
  attestation?: Uint8Array;
  /**
   * Digest signature checks still to be run (hashedrekord): the caller verifies them, batched
   * (verifyDigestBatch) before admission. Kinds verified during parsing leave this empty.
   */
  pending: DigestVerification[];
}

/** Rekor v1 keeps attestations up to this size (rekor `max_attestation_size` default). */
export const MAX_ATTESTATION_SIZE = 100 * 1024;
