/**
 * Transparency log evidence in a bundle (Sigstore client spec §4.1 "Transparency log entry
 * verification"): the entry comes from a trusted log, its body records exactly this
 * signature, key/certificate and artifact, its SignedEntryTimestamp (Rekor v1) verifies, and
 * its inclusion proof reaches a checkpoint signed by that log.
 */
import { SignetError, verificationFailed } from '../../core/errors.ts';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { decodePemAll, encodePem } from '../../core/encoding/pem.ts';
import { BytesMap } from '../../core/cache.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { verifyMessage } from '../../core/crypto/verify.ts';
import { digest as digestOf } from '../../core/crypto/digest.ts';
import { leafHash, hashEqual } from '../../core/merkle/hash.ts';
import { verifyInclusion } from '../../core/merkle/tree.ts';
import { parseNote, verifyParsedNote, type Note } from '../../core/note/note.ts';
import { originOfUrl, parseCheckpoint, type Checkpoint } from '../../core/note/checkpoint.ts';
import { trustedLogVerifier } from '../../core/note/keys.ts';
import { requireCosignatures, type CosignerKey } from '../../core/note/cosignature.ts';
import type { TransparencyLogEntry } from '../../bundle/bundle.ts';
import type { TransparencyLogInstance } from '../../bundle/trusted-root.ts';
import { parseJsonText } from '../../core/json.ts';
const { hash } = process.getBuiltinModule('node:crypto');

/**
 * Witnesses whose cosignatures (c2sp.org/tlog-cosignature) a checkpoint must carry: at least
 * `threshold` of `keys`. A witness vouches that the log showed it this tree and proved it
 * consistent with every earlier one it saw, so a log cannot show this client a forked view
 * unless that many witnesses collude.
 */
export interface WitnessPolicy {
  keys: CosignerKey[];
  threshold: number;
}

/** What the log entry must record, taken from the bundle and the artifact. */
export interface EntryExpectation {
  /** The signature bytes (message signature or the envelope's only signature). */
  signature: Uint8Array;
  /** The signer: certificate DER, or the public key (SPKI DER) for keyed bundles. */
  signer: { kind: 'certificate'; der: Uint8Array } | { kind: 'key'; spki: Uint8Array };
  content:
    | { kind: 'message'; algorithm: 'sha256' | 'sha384' | 'sha512'; digest: Uint8Array }
    | {
        kind: 'dsse';
        payload: Uint8Array;
        payloadType: string;
        /** PAE(payloadType, payload): Rekor v2 hashedrekord records its digest for DSSE. */
        pae: Uint8Array;
        /** The hash of the signing key's scheme (SHA-384 for P-384): rekor-tiles digests the PAE with it. */
        keyHash: 'sha256' | 'sha384' | 'sha512';
      };
}

function bodyMismatch(message: string): SignetError {
  return verificationFailed('TLOG_BODY_MISMATCH', `the transparency log entry ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walk a JSON path, failing with a body-mismatch error when a step is missing. */
function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (!isObject(cur) || !(p in cur)) throw bodyMismatch(`body has no ${path.join('.')}`);
    cur = cur[p];
  }
  return cur;
}

function atString(v: unknown, ...path: string[]): string {
  const s = at(v, ...path);
  if (typeof s !== 'string') throw bodyMismatch(`body field ${path.join('.')} is not a string`);
  return s;
}

function b64(s: string, what: string): Uint8Array {
  try {
    return fromBase64(s, what);
  } catch {
    throw bodyMismatch(`body field ${what} is not base64`);
  }
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** The certificate or public key (DER) an entry records must be the bundle's signer, byte for byte. */
function checkSigner(der: Uint8Array, exp: EntryExpectation): void {
  const want = exp.signer.kind === 'certificate' ? exp.signer.der : exp.signer.spki;
  if (!eq(der, want))
    throw bodyMismatch(
      `records a different ${exp.signer.kind === 'certificate' ? 'signing certificate' : 'public key'} than the bundle's`,
    );
}

/**
 * base64 of the PEM text of signers seen (64-character lines, as Go's encoding/pem and the
 * Sigstore clients write it), by kind and exact DER: the form a v1 entry usually records.
 */
const signerPemBase64 = {
  certificate: new BytesMap<string>(256),
  key: new BytesMap<string>(256),
};

function pemBase64Of(exp: EntryExpectation): string {
  const der = exp.signer.kind === 'certificate' ? exp.signer.der : exp.signer.spki;
  const memory = signerPemBase64[exp.signer.kind];
  let text = memory.get([der]);
  if (text === undefined) {
    const label = exp.signer.kind === 'certificate' ? 'CERTIFICATE' : 'PUBLIC KEY';
    text = toBase64(Buffer.from(encodePem(label, der)));
    memory.set([der], text);
  }
  return text;
}

/** A key or certificate the v1 entry names as base64 of PEM: compare DER with the bundle's. */
function checkPemVerifier(b64pem: string, exp: EntryExpectation, what: string): void {
  // The signer's own PEM text, base64-encoded as the bundle's signer would be, decodes to the
  // signer's DER: equal text needs no decoding (two base64 layers and the PEM armour). Any
  // other text (other line lengths, CRLF, a different signer) is decoded and compared.
  if (b64pem === pemBase64Of(exp)) return;
  let der: Uint8Array | undefined;
  try {
    const raw = b64(b64pem, what);
    const pem = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
    der = decodePemAll(pem, what)[0]?.der;
  } catch (e) {
    if (e instanceof SignetError && e.kind === 'verification') throw e;
  }
  if (der === undefined) throw bodyMismatch(`body field ${what} is not a PEM key or certificate`);
  checkSigner(der, exp);
}

/** A v2 `Verifier` message: {publicKey:{rawBytes}} | {x509Certificate:{rawBytes}}. */
function checkV2Verifier(v: unknown, exp: EntryExpectation, what: string): void {
  if (!isObject(v)) throw bodyMismatch(`body has no ${what}`);
  let der: Uint8Array;
  if (isObject(v.x509Certificate))
    der = b64(atString(v, 'x509Certificate', 'rawBytes'), `${what}.x509Certificate.rawBytes`);
  else if (isObject(v.publicKey))
    der = b64(atString(v, 'publicKey', 'rawBytes'), `${what}.publicKey.rawBytes`);
  else throw bodyMismatch(`body ${what} names neither a certificate nor a public key`);
  checkSigner(der, exp);
}

// A Map, not an object literal: a body naming "constructor" must not find a prototype member.
const V2_ALG = new Map<string, 'sha256' | 'sha384' | 'sha512'>([
  ['SHA2_256', 'sha256'],
  ['SHA2_384', 'sha384'],
  ['SHA2_512', 'sha512'],
]);

/** Checks the entry's canonicalized body against the bundle (kind by kind). */
export function verifyEntryBody(entry: TransparencyLogEntry, exp: EntryExpectation): void {
  let body: unknown;
  try {
    body = parseJsonText(entry.canonicalizedBody, 'canonicalizedBody');
  } catch {
    throw bodyMismatch('body is not JSON');
  }
  const kind = atString(body, 'kind');
  const version = atString(body, 'apiVersion');
  if (kind !== entry.kind || version !== entry.kindVersion)
    throw bodyMismatch(
      `body is of kind ${kind} ${version} but the bundle says ${entry.kind} ${entry.kindVersion}`,
    );
  const spec = at(body, 'spec');
  const key = `${kind}/${version}`;
  switch (key) {
    case 'hashedrekord/0.0.1': {
      const alg = atString(spec, 'data', 'hash', 'algorithm');
      const value = atString(spec, 'data', 'hash', 'value');
      if (exp.content.kind === 'dsse') {
        // A large envelope is logged by the digest of its PAE (what was signed) instead of
        // whole, so it never meets the log's request limit; sigstore-js reads it so too.
        if (alg !== 'sha256' && alg !== exp.content.keyHash)
          throw bodyMismatch(
            `records a ${alg} digest of the DSSE envelope; a signing key of this type is logged with sha256 or ${exp.content.keyHash}`,
          );
        const want = hash(alg, exp.content.pae);
        if (value.toLowerCase() !== want)
          throw bodyMismatch(
            'is for a different DSSE envelope (the digest of its signed payload differs)',
          );
      } else {
        if (alg !== exp.content.algorithm)
          throw bodyMismatch(
            `records a ${alg} digest, the artifact was hashed with ${exp.content.algorithm}`,
          );
        if (value.toLowerCase() !== toHex(exp.content.digest))
          throw bodyMismatch(
            "is for a different artifact (its digest differs from the artifact's)",
          );
      }
      if (!eq(b64(atString(spec, 'signature', 'content'), 'spec.signature.content'), exp.signature))
        throw bodyMismatch("records a different signature than the bundle's");
      checkPemVerifier(
        atString(spec, 'signature', 'publicKey', 'content'),
        exp,
        'spec.signature.publicKey.content',
      );
      return;
    }
    case 'hashedrekord/0.0.2': {
      const h = isObject(spec) ? (spec.hashedRekordV002 ?? spec.hashedRekordV0_0_2) : undefined;
      if (!isObject(h)) throw bodyMismatch('body has no spec.hashedRekordV002');
      const alg = V2_ALG.get(atString(h, 'data', 'algorithm'));
      const digest = b64(atString(h, 'data', 'digest'), 'data.digest');
      // DSSE bundles are logged in Rekor v2 as hashedrekord over the digest of the PAE (client
      // spec §4.4): SHA-256 as sigstore-js reads it, or the key scheme's hash (SHA-384 for
      // P-384), the only one rekor-tiles takes (the digest length must match keyDetails). Any
      // other algorithm is not what either would log, so it is refused.
      if (alg === undefined) throw bodyMismatch('records a digest with an unknown algorithm');
      if (exp.content.kind === 'dsse' && alg !== 'sha256' && alg !== exp.content.keyHash)
        throw bodyMismatch(
          `records a ${alg} digest of the DSSE envelope; a signing key of this type is logged with sha256 or ${exp.content.keyHash}`,
        );
      const want =
        exp.content.kind === 'message'
          ? { alg: exp.content.algorithm, digest: exp.content.digest }
          : { alg, digest: digestOf(alg, exp.content.pae) };
      if (alg !== want.alg) throw bodyMismatch(`records a ${alg} digest, expected ${want.alg}`);
      if (!eq(digest, want.digest))
        throw bodyMismatch(
          exp.content.kind === 'message'
            ? "is for a different artifact (its digest differs from the artifact's)"
            : 'is for a different DSSE envelope (the digest of its signed payload differs)',
        );
      if (!eq(b64(atString(h, 'signature', 'content'), 'signature.content'), exp.signature))
        throw bodyMismatch("records a different signature than the bundle's");
      checkV2Verifier(at(h, 'signature', 'verifier'), exp, 'signature.verifier');
      return;
    }
    case 'dsse/0.0.1': {
      if (exp.content.kind !== 'dsse')
        throw bodyMismatch('is a dsse entry but the bundle holds a message signature');
      if (atString(spec, 'payloadHash', 'algorithm') !== 'sha256')
        throw bodyMismatch('records a payload hash that is not sha256');
      if (
        atString(spec, 'payloadHash', 'value').toLowerCase() !== hash('sha256', exp.content.payload)
      )
        throw bodyMismatch('is for a different DSSE envelope (payload hash differs)');
      const sigs = at(spec, 'signatures');
      if (!Array.isArray(sigs) || sigs.length !== 1)
        throw bodyMismatch('must record exactly one envelope signature');
      const s = sigs[0] as unknown;
      if (!eq(b64(atString(s, 'signature'), 'signatures[0].signature'), exp.signature))
        throw bodyMismatch("records a different envelope signature than the bundle's");
      checkPemVerifier(atString(s, 'verifier'), exp, 'signatures[0].verifier');
      return;
    }
    case 'dsse/0.0.2': {
      if (exp.content.kind !== 'dsse')
        throw bodyMismatch('is a dsse entry but the bundle holds a message signature');
      const d = isObject(spec) ? (spec.dsseV002 ?? spec.dsseV0_0_2) : undefined;
      if (!isObject(d)) throw bodyMismatch('body has no spec.dsseV002');
      if (atString(d, 'payloadHash', 'algorithm') !== 'SHA2_256')
        throw bodyMismatch('records a payload hash that is not SHA2_256');
      if (
        !eq(
          b64(atString(d, 'payloadHash', 'digest'), 'payloadHash.digest'),
          digestOf('sha256', exp.content.payload),
        )
      )
        throw bodyMismatch('is for a different DSSE envelope (payload hash differs)');
      const sigs = at(d, 'signatures');
      if (!Array.isArray(sigs) || sigs.length !== 1)
        throw bodyMismatch('must record exactly one envelope signature');
      const s = sigs[0] as unknown;
      if (!eq(b64(atString(s, 'content'), 'signatures[0].content'), exp.signature))
        throw bodyMismatch("records a different envelope signature than the bundle's");
      checkV2Verifier(at(s, 'verifier'), exp, 'signatures[0].verifier');
      return;
    }
    case 'intoto/0.0.2': {
      if (exp.content.kind !== 'dsse')
        throw bodyMismatch('is an intoto entry but the bundle holds a message signature');
      if (atString(spec, 'content', 'payloadHash', 'algorithm') !== 'sha256')
        throw bodyMismatch('records a payload hash that is not sha256');
      if (
        atString(spec, 'content', 'payloadHash', 'value').toLowerCase() !==
        hash('sha256', exp.content.payload)
      )
        throw bodyMismatch('is for a different DSSE envelope (payload hash differs)');
      if (atString(spec, 'content', 'envelope', 'payloadType') !== exp.content.payloadType)
        throw bodyMismatch('records a different payload type');
      const sigs = at(spec, 'content', 'envelope', 'signatures');
      if (!Array.isArray(sigs) || sigs.length !== 1)
        throw bodyMismatch('must record exactly one envelope signature');
      const s = sigs[0] as unknown;
      // intoto 0.0.2 double-encodes: base64 of the envelope's base64 signature text.
      const sigText = Buffer.from(b64(atString(s, 'sig'), 'signatures[0].sig')).toString('utf8');
      if (sigText !== toBase64(exp.signature))
        throw bodyMismatch("records a different envelope signature than the bundle's");
      checkPemVerifier(atString(s, 'publicKey'), exp, 'signatures[0].publicKey');
      return;
    }
    default:
      throw verificationFailed(
        'TLOG_UNSUPPORTED_KIND',
        `transparency log entries of kind ${kind} ${version} are not supported (hashedrekord, dsse and intoto are)`,
      );
  }
}

/** A trusted log for messages: its base URL, or its log ID where the root gives no URL. */
export function logName(log: TransparencyLogInstance): string {
  return log.baseUrl || toHex(log.logId);
}

/** The trusted log an entry names by log ID (v2 logs may name their checkpoint key ID). */
export function findLog(
  entry: TransparencyLogEntry,
  logs: readonly TransparencyLogInstance[],
): TransparencyLogInstance | undefined {
  return logs.find(
    (l) =>
      eq(l.logId, entry.logId) ||
      (l.checkpointKeyId !== undefined && eq(l.checkpointKeyId, entry.logId)),
  );
}

/**
 * Rekor v1 SignedEntryTimestamp: the log's signature over the JCS canonical JSON of
 * {body, integratedTime, logID, logIndex} (servers.md §2.4).
 */
export function verifySet(entry: TransparencyLogEntry, log: TransparencyLogInstance): void {
  const set = entry.signedEntryTimestamp;
  if (set === undefined)
    throw verificationFailed('TLOG_SET', `entry ${entry.logIndex} has no signed entry timestamp`);
  // JCS of {body, integratedTime, logID, logIndex}: the keys are in sorted order, base64 and
  // hex need no escaping and the numbers are integers, so the text is written directly. It is
  // ASCII, so its latin1 bytes are its UTF-8 bytes (and need no transcoding).
  const payload = Buffer.from(
    `{"body":"${toBase64(entry.canonicalizedBody)}","integratedTime":${entry.integratedTime},"logID":"${toHex(entry.logId)}","logIndex":${entry.logIndex}}`,
    'latin1',
  );
  if (!verifyMessage(log.publicKey, log.keyDetails, payload, set))
    throw verificationFailed(
      'TLOG_SET',
      `the log's signed entry timestamp (promise of inclusion) for entry ${entry.logIndex} does not verify with the key of ${logName(log)}`,
    );
}

/**
 * The names a checkpoint may give the log at `baseUrl`: its scheme-less URL or its host (with or
 * without the port). undefined for a log the trust names by its key alone, with no http(s) URL
 * (cosign's SIGSTORE_REKOR_PUBLIC_KEY, for a log the trusted root does not list).
 */
function logOriginNames(baseUrl: string): string[] | undefined {
  const schemeless = originOfUrl(baseUrl);
  if (schemeless === undefined) return undefined;
  const u = new URL(baseUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  return [schemeless, u.host, u.hostname];
}

/** Each trusted log's origin names, worked out (two URL parses) once per log and base URL. */
const originNames = new WeakMap<
  TransparencyLogInstance,
  { baseUrl: string; names: string[] | undefined }
>();

function originNamesOf(log: TransparencyLogInstance): readonly string[] | undefined {
  const known = originNames.get(log);
  if (known?.baseUrl === log.baseUrl) return known.names;
  const names = logOriginNames(log.baseUrl);
  originNames.set(log, { baseUrl: log.baseUrl, names });
  return names;
}

/**
 * The inclusion proof reaches a checkpoint signed by the entry's log (servers.md §3.4): the
 * signature line's 4-byte key ID is the first 4 bytes of the log's (checkpoint) key ID and its
 * name is the checkpoint origin (Rekor v1: the hostname before " - <tree ID>"). Signatures from
 * other keys (witnesses) are ignored; a failing signature from the log's key rejects.
 */
export function verifyInclusionProof(
  entry: TransparencyLogEntry,
  log: TransparencyLogInstance,
  witnesses?: WitnessPolicy,
): void {
  const proof = entry.inclusionProof;
  const where = `entry ${entry.logIndex}`;
  if (proof === undefined)
    throw verificationFailed('TLOG_INCLUSION_PROOF', `${where} has no inclusion proof`);
  const hash = leafHash(entry.canonicalizedBody);
  if (proof.checkpoint === undefined) {
    // v0.1 bundles may carry a proof without a checkpoint: it proves nothing signed, but a
    // proof that does not even reach its own root hash is corrupt.
    try {
      verifyInclusion(hash, proof.logIndex, proof.treeSize, proof.hashes, proof.rootHash);
    } catch (e) {
      throw verificationFailed(
        'TLOG_INCLUSION_PROOF',
        `inclusion proof for ${where}: ${(e as Error).message}`,
        e,
      );
    }
    return;
  }
  // Parsed once; the signature check below is over this same note text.
  let note: Note;
  let checkpoint: Checkpoint;
  try {
    note = parseNote(proof.checkpoint, 'checkpoint');
    checkpoint = parseCheckpoint(note.text, 'checkpoint');
  } catch (e) {
    throw verificationFailed(
      'TLOG_CHECKPOINT',
      `the checkpoint of ${where} is malformed: ${(e as Error).message}`,
      e,
    );
  }
  const origin = checkpoint.origin;
  const keyId = log.checkpointKeyId ?? log.logId;
  // The checkpoint must be the trusted log's own (C2SP tlog-checkpoint: the origin names the
  // log): a v2 origin is the log's base URL without the scheme, a v1 origin starts with its
  // host ("<host> - <tree ID>"). A tree signed under another name by the same key is another log.
  // A log known by its key alone has no name to hold the origin to: the key is all that names
  // it (as for its signed entry timestamps), and the checkpoint must still be signed with it.
  const logNames = originNamesOf(log);
  const names = [origin, origin.split(' - ')[0]!].filter(
    (n) => n !== '' && (logNames === undefined || logNames.includes(n)),
  );
  if (names.length === 0)
    throw verificationFailed(
      'TLOG_CHECKPOINT',
      `the checkpoint of ${where} is for the log "${origin}", not the trusted log ${logName(log)}`,
    );
  const verifiers = [...new Set(names)].map((n) => trustedLogVerifier(n, keyId, log.publicKey));
  try {
    verifyParsedNote(note, verifiers, 'checkpoint');
  } catch (e) {
    throw verificationFailed(
      'TLOG_CHECKPOINT',
      `the checkpoint of ${where} is not signed by the log ${logName(log)}: ${(e as Error).message}`,
      e,
    );
  }
  if (witnesses && witnesses.threshold > 0)
    requireCosignatures(
      proof.checkpoint,
      witnesses.keys,
      witnesses.threshold,
      `the checkpoint of ${where}`,
    );
  if (checkpoint.size !== proof.treeSize)
    throw verificationFailed(
      'TLOG_INCLUSION_PROOF',
      `the inclusion proof of ${where} is for tree size ${proof.treeSize} but the checkpoint is for size ${checkpoint.size}`,
    );
  if (!hashEqual(checkpoint.rootHash, proof.rootHash))
    throw verificationFailed(
      'TLOG_INCLUSION_PROOF',
      `the inclusion proof of ${where} names a root hash that differs from the signed checkpoint's`,
    );
  try {
    verifyInclusion(hash, proof.logIndex, proof.treeSize, proof.hashes, checkpoint.rootHash);
  } catch (e) {
    throw verificationFailed(
      'TLOG_INCLUSION_PROOF',
      `the inclusion proof of ${where} does not lead to the signed checkpoint: ${(e as Error).message}`,
      e,
    );
  }
}
