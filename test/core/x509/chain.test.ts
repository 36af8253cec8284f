import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  basicConstraintsValue,
  encodeName,
  encodeTbs,
  extKeyUsageValue,
  keyUsageValue,
  randomSerial,
  signatureAlgorithmFor,
  signTbs,
  subjectAltNameValue,
  NAME_OID,
  type ExtensionSpec,
  type KeyUsageName,
} from '../../../src/core/x509/build.ts';
import { OID, parseCertificate, type X509Certificate } from '../../../src/core/x509/certificate.ts';
import { verifyCertificateChain, type TrustedAuthority } from '../../../src/core/x509/chain.ts';
import { SignetError } from '../../../src/core/errors.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const hour = 3600_000;
const at = (ms: number) => new Date(T0.getTime() + ms);

interface Spec {
  cn: string;
  key?: KeyObject;
  issuer?: { cn: string; key: KeyObject };
  ca?: boolean;
  pathLength?: number;
  ku?: KeyUsageName[];
  eku?: string[];
  notBefore?: Date;
  notAfter?: Date;
  extra?: ExtensionSpec[];
}

function keyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function mk(s: Spec): { der: Uint8Array; cert: X509Certificate; key: KeyObject; cn: string } {
  const kp = keyPair();
  const pub = s.key ?? kp.publicKey;
  const signer = s.issuer?.key ?? kp.privateKey;
  const ext: ExtensionSpec[] = [];
  if (s.ku) ext.push({ oid: OID.keyUsage, critical: true, value: keyUsageValue(s.ku) });
  if (s.eku) ext.push({ oid: OID.extKeyUsage, critical: false, value: extKeyUsageValue(s.eku) });
  if (s.ca !== undefined)
    ext.push({
      oid: OID.basicConstraints,
      critical: true,
      value: basicConstraintsValue(s.ca, s.pathLength),
    });
  if (!s.ca)
    ext.push({
      oid: OID.subjectAltName,
      critical: true,
      value: subjectAltNameValue({ type: 'email', value: 'a@example.com' }),
    });
  ext.push(...(s.extra ?? []));
  const tbs = encodeTbs({
    serial: randomSerial(),
    signatureAlgorithm: signatureAlgorithmFor(signer).der,
    issuer: encodeName([[NAME_OID.commonName, s.issuer?.cn ?? s.cn]]),
    subject: encodeName([[NAME_OID.commonName, s.cn]]),
    notBefore: s.notBefore ?? T0,
    notAfter: s.notAfter ?? at(1000 * hour),
    spki: new Uint8Array(pub.export({ format: 'der', type: 'spki' })),
    extensions: ext,
  });
  const der = signTbs(tbs, signer);
  return { der, cert: parseCertificate(der), key: kp.privateKey, cn: s.cn };
}

/** root -> intermediate -> leaf, Fulcio-like, with overrides. */
function pki(o: { root?: Partial<Spec>; inter?: Partial<Spec>; leaf?: Partial<Spec> } = {}) {
  const root = mk({
    cn: 'root',
    ca: true,
    pathLength: 1,
    ku: ['keyCertSign', 'cRLSign'],
    ...o.root,
  });
  const inter = mk({
    cn: 'inter',
    ca: true,
    pathLength: 0,
    ku: ['keyCertSign', 'cRLSign'],
    eku: [OID.codeSigning],
    issuer: { cn: 'root', key: root.key },
    ...o.inter,
  });
  const leaf = mk({
    cn: 'leaf',
    ku: ['digitalSignature'],
    eku: [OID.codeSigning],
    issuer: { cn: 'inter', key: inter.key },
    notBefore: T0,
    notAfter: at(10 * 60_000),
    ...o.leaf,
  });
  const ca: TrustedAuthority = { certChain: [inter.der, root.der], validFor: { start: T0 } };
  return { root, inter, leaf, ca };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    return `${e.code}: ${e.message}`;
  }
  return 'ok';
}

test('a Fulcio-like leaf validates at a time inside its window, and not outside it', () => {
  const { leaf, ca, inter, root } = pki();
  const r = verifyCertificateChain(leaf.cert, [ca], at(60_000));
  assert.equal(r.path.length, 3);
  assert.equal(r.path[1]!.subject, inter.cert.subject);
  assert.equal(r.path[2]!.subject, root.cert.subject);
  // closed interval: the exact notAfter is valid, one second later is not
  assert.equal(
    code(() => verifyCertificateChain(leaf.cert, [ca], leaf.cert.notAfter)),
    'ok',
  );
  assert.match(
    code(() => verifyCertificateChain(leaf.cert, [ca], at(11 * 60_000))),
    /^CERTIFICATE_EXPIRED/,
  );
  assert.match(
    code(() => verifyCertificateChain(leaf.cert, [ca], at(-1000))),
    /^CERTIFICATE_EXPIRED/,
  );
});

test('the CA must be trusted at that time (trusted root window)', () => {
  const { leaf, ca } = pki();
  const late = { ...ca, validFor: { start: at(hour) } };
  assert.match(
    code(() => verifyCertificateChain(leaf.cert, [late], at(60_000))),
    /CA_NOT_VALID/,
  );
  const ended = { ...ca, validFor: { start: T0, end: at(30_000) } };
  assert.match(
    code(() => verifyCertificateChain(leaf.cert, [ended], at(60_000))),
    /CA_NOT_VALID/,
  );
  assert.equal(
    code(() => verifyCertificateChain(leaf.cert, [ended], at(30_000))),
    'ok',
  );
  // An invalid date in the window (a hand-built root) trusts the CA at no time, not at every
  // time: the comparisons with NaN are all false.
  for (const validFor of [
    { start: new Date(Number.NaN) },
    { start: T0, end: new Date(Number.NaN) },
  ])
    assert.match(
      code(() => verifyCertificateChain(leaf.cert, [{ ...ca, validFor }], at(30_000))),
      /CA_NOT_VALID/,
    );
});

test('a leaf from another CA, or with a forged signature, is untrusted', () => {
  const a = pki();
  const b = pki();
  assert.match(
    code(() => verifyCertificateChain(a.leaf.cert, [b.ca], at(60_000))),
    /CERTIFICATE_UNTRUSTED/,
  );
  // the other CA chain first, then the right one: the right one is found
  assert.equal(
    code(() => verifyCertificateChain(a.leaf.cert, [b.ca, a.ca], at(60_000))),
    'ok',
  );
  // same names, different key: signature does not verify
  const forged = mk({
    cn: 'leaf',
    ku: ['digitalSignature'],
    eku: [OID.codeSigning],
    issuer: { cn: 'inter', key: b.inter.key },
    notAfter: at(600_000),
  });
  assert.match(
    code(() => verifyCertificateChain(forged.cert, [a.ca], at(60_000))),
    /CERTIFICATE_UNTRUSTED/,
  );
});

test('a leaf that is itself a CA fails; so does a leaf without code signing or digital signature', () => {
  assert.match(
    code(() => {
      const p = pki({ leaf: { ca: true } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /is a CA certificate/,
  );
  assert.match(
    code(() => {
      const p = pki({ leaf: { eku: [OID.timeStamping] } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /code signing/,
  );
  assert.match(
    code(() => {
      const p = pki({ leaf: { eku: undefined } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /code signing/,
  );
  assert.match(
    code(() => {
      const p = pki({ leaf: { ku: ['keyCertSign'] } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /digital signatures/,
  );
});

test('issuers must be CAs allowed to sign certificates, within path length and EKU', () => {
  assert.match(
    code(() => {
      const p = pki({ inter: { ca: false } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /not a CA/,
  );
  assert.match(
    code(() => {
      const p = pki({ inter: { ku: ['digitalSignature'] } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /may not sign certificates/,
  );
  assert.match(
    code(() => {
      const p = pki({ root: { pathLength: 0 } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /allows 0 CA certificates below it, the path has 1/,
  );
  assert.match(
    code(() => {
      const p = pki({ inter: { eku: [OID.timeStamping] } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /not allowed to issue certificates for code signing/,
  );
  // an intermediate without an EKU restriction is fine
  assert.equal(
    code(() => {
      const p = pki({ inter: { eku: undefined } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    'ok',
  );
  // an expired intermediate fails at that time
  assert.match(
    code(() => {
      const p = pki({ inter: { notAfter: at(30_000) } });
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000));
    }),
    /CA certificate "CN=inter" was not valid/,
  );
});

test('unknown critical extensions fail closed', () => {
  const p = pki({
    leaf: { extra: [{ oid: '1.2.3.4', critical: true, value: Uint8Array.of(5, 0) }] },
  });
  assert.match(
    code(() => verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000))),
    /critical extension 1\.2\.3\.4/,
  );
  const q = pki({
    leaf: { extra: [{ oid: '1.2.3.4', critical: false, value: Uint8Array.of(5, 0) }] },
  });
  assert.equal(
    code(() => verifyCertificateChain(q.leaf.cert, [q.ca], at(60_000))),
    'ok',
  );
});

test("certificates the bundle carries: the CA's own intermediate is tolerated, a root or a stranger is refused", () => {
  const p = pki();
  assert.equal(
    code(() => verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000), [p.inter.cert])),
    'ok',
  );
  assert.match(
    code(() =>
      verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000), [p.inter.cert, p.root.cert]),
    ),
    /self-signed root/,
  );
  const stranger = pki().inter.cert;
  assert.match(
    code(() => verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000), [stranger])),
    /not part of the trusted CA chain/,
  );
});

test('several times: the path must hold at each, and the error says which time failed', () => {
  const { leaf, ca } = pki();
  assert.equal(
    code(() => verifyCertificateChain(leaf.cert, [ca], [at(1000), at(60_000)])),
    'ok',
  );
  try {
    verifyCertificateChain(leaf.cert, [ca], [at(1000), at(11 * 60_000)]);
    assert.fail('expected a failure');
  } catch (e) {
    assert.ok(e instanceof SignetError);
    assert.equal(e.code, 'CERTIFICATE_EXPIRED');
    assert.equal(e.details?.at, at(11 * 60_000).toISOString());
  }
  const ended = { ...ca, validFor: { start: T0, end: at(30_000) } };
  assert.match(
    code(() => verifyCertificateChain(leaf.cert, [ended], [at(1000), at(60_000)])),
    /CA_NOT_VALID/,
  );
  assert.match(
    code(() => verifyCertificateChain(leaf.cert, [ca], [])),
    /no time/,
  );
});

test('several times, in either order: leaf, trusted root window and CA certificates are each checked at every time', () => {
  const failedAt = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof SignetError, String(e));
      return `${e.code} at ${String(e.details?.at)}: ${e.message}`;
    }
    return 'ok';
  };
  const good = at(1000);
  // the leaf expires at 10 min
  const { leaf, ca } = pki();
  const late = at(11 * 60_000);
  for (const times of [
    [good, late],
    [late, good],
  ])
    assert.equal(
      failedAt(() => verifyCertificateChain(leaf.cert, [ca], times)),
      `CERTIFICATE_EXPIRED at ${late.toISOString()}: the signing certificate was not valid at ${late.toISOString()} (valid ${T0.toISOString()} to ${at(10 * 60_000).toISOString()})`,
    );
  // the trusted root stops trusting the CA at 30 s
  const ended = { ...ca, validFor: { start: T0, end: at(30_000) } };
  for (const times of [
    [good, at(60_000)],
    [at(60_000), good],
  ])
    assert.equal(
      failedAt(() => verifyCertificateChain(leaf.cert, [ended], times)),
      `CERTIFICATE_CA_NOT_VALID at ${at(60_000).toISOString()}: the CA "CN=inter" that issued the certificate is not trusted at ${at(60_000).toISOString()} (trusted root validity window)`,
    );
  // the intermediate certificate itself expires at 30 s, inside the leaf's window
  const p = pki({ inter: { notAfter: at(30_000) } });
  for (const times of [
    [good, at(60_000)],
    [at(60_000), good],
  ])
    assert.equal(
      failedAt(() => verifyCertificateChain(p.leaf.cert, [p.ca], times)),
      `CERTIFICATE_EXPIRED at ${at(60_000).toISOString()}: the CA certificate "CN=inter" was not valid at ${at(60_000).toISOString()}`,
    );
  assert.equal(
    failedAt(() => verifyCertificateChain(p.leaf.cert, [p.ca], [good, at(30_000)])),
    'ok',
  );
});

test('a good issuer signature is remembered by exact content, never a bad one', () => {
  const p = pki();
  const opts = {};
  assert.equal(
    code(() => verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000), [], opts)),
    'ok',
  );
  assert.equal(
    code(() => verifyCertificateChain(p.leaf.cert, [p.ca], at(60_000), [], opts)),
    'ok',
  );
  // time checks still apply on a remembered link
  assert.match(
    code(() => verifyCertificateChain(p.leaf.cert, [p.ca], at(11 * 60_000), [], opts)),
    /EXPIRED/,
  );
  // a forged leaf with the same names is not let through by the memory
  const forged = mk({
    cn: 'leaf',
    ku: ['digitalSignature'],
    eku: [OID.codeSigning],
    issuer: { cn: 'inter', key: pki().inter.key },
    notAfter: at(600_000),
  });
  assert.match(
    code(() => verifyCertificateChain(forged.cert, [p.ca], at(60_000), [], opts)),
    /UNTRUSTED/,
  );
  assert.match(
    code(() => verifyCertificateChain(forged.cert, [p.ca], at(60_000), [], opts)),
    /UNTRUSTED/,
  );
});
