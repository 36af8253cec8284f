/**
 * EC public keys in the SubjectPublicKeyInfo forms OpenSSL reads and Go's x509 refuses (RFC 5480:
 * a compressed point, explicit curve parameters), for the tests that such keys are refused.
 */
import type { KeyObject } from 'node:crypto';

const der = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));

/** The same key with its point compressed (SEC 1 §2.3.3), as a client may send it. */
export function compressed(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  const full = der(key);
  const alg = full.subarray(2, 4 + full[3]!); // the AlgorithmIdentifier, short-form lengths
  const point = Buffer.concat([Buffer.of(2 + (y[y.length - 1]! & 1)), x]);
  const body = Buffer.concat([alg, Buffer.of(0x03, point.length + 1, 0), point]);
  return new Uint8Array(Buffer.concat([Buffer.of(0x30, body.length), body]));
}

/** A P-256 key with explicit curve parameters (openssl ec -pubout -param_enc explicit). */
export const EXPLICIT_P256 = `-----BEGIN PUBLIC KEY-----
MIIBSzCCAQMGByqGSM49AgEwgfcCAQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAA
AAAAAAAAAAAA////////////////MFsEIP////8AAAABAAAAAAAAAAAAAAAA////
///////////8BCBaxjXYqjqT57PrvVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSd
NgiG5wSTamZ44ROdJreBn36QBEEEaxfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5
RdiYwpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA
//////////+85vqtpxeehPO5ysL8YyVRAgEBA0IABNopaC5kB4K4bvJdnzEqRzIK
oySao1cxT0MVSip15rI6wC8yWDNsWmRmhSgNmJo3V1A7SFKVmNiHb9gwQPdJak0=
-----END PUBLIC KEY-----
`;
