// A timestamp authority whose trusted chain holds only CA certificates (sigstore-go's
// ParseTimestampingAuthority: the leaf is the first certificate only when it is not a CA;
// gitsign's timestampCertChain file of roots and intermediates): the TSA's certificate then
// comes from the token and must chain to the authority. Tokens are OpenSSL's own
// (`openssl ts -reply`), with and without the certificates a request asks for.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { decodePemAll } from '../../../src/core/encoding/pem.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { writeTsaConfig } from '../../helpers/openssl-tsa.ts';
import {
  createTimestampResponse,
  encodeTimestampRequest,
  parseTimestampRequest,
  prepareTimestampSigner,
  verifyTimestamp,
  type TimestampAuthority,
} from '../../../src/core/rfc3161/index.ts';

let dir = '';
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
const der = (file: string): Uint8Array =>
  decodePemAll(fs.readFileSync(path.join(dir, file), 'utf8'), file)[0]!.der;
const data = Buffer.from('the signature a timestamp covers');

/** A self-signed root `name`.crt, or a certificate `name` issued by `issuer` with `ext`. */
function cert(
  name: string,
  subject: string,
  issuer?: string,
  ext = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n',
) {
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  if (!issuer) {
    openssl(
      'req',
      '-new',
      '-x509',
      '-key',
      `${name}.key`,
      '-subj',
      subject,
      '-days',
      '2',
      '-out',
      `${name}.crt`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    return;
  }
  openssl('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${issuer}.crt`,
    '-CAkey',
    `${issuer}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
}

const TSA_EXT = 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=critical,timeStamping\n';

/**
 * OpenSSL's timestamp over `data` by `signer`: with its certificate when `certReq`, and the
 * `extra` certificates (OpenSSL's `certs` setting) after it.
 */
function stamp(signer: string, certReq: boolean, extra?: string): Uint8Array {
  fs.writeFileSync(path.join(dir, 'data'), data);
  openssl(
    'ts',
    '-query',
    '-data',
    'data',
    '-sha256',
    ...(certReq ? ['-cert'] : []),
    '-out',
    'q.tsq',
  );
  writeTsaConfig(dir, signer, extra ? { certs: path.join(dir, `${extra}.crt`) } : {});
  openssl('ts', '-reply', '-config', 'tsa.cnf', '-queryfile', 'q.tsq', '-out', 'r.tsr');
  return fs.readFileSync(path.join(dir, 'r.tsr'));
}

const authority = (...files: string[]): TimestampAuthority => ({
  certChain: files.map((f) => der(`${f}.crt`)),
  validFor: { start: new Date(0) },
});

function refused(f: () => unknown, code: string, message: RegExp): void {
  assert.throws(f, (e) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-leafless-tsa-'));
  // root -> intermediate -> TSA; a rogue PKI with the same names; a CA that stamps.
  cert('root', '/CN=tsa-root');
  cert('int', '/CN=tsa-intermediate', 'root');
  cert('tsa', '/CN=tsa', 'int', TSA_EXT);
  cert('direct', '/CN=tsa-direct', 'root', TSA_EXT);
  cert('rogue-root', '/CN=tsa-root');
  cert('rogue-int', '/CN=tsa-intermediate', 'rogue-root');
  cert('rogue', '/CN=tsa', 'rogue-int', TSA_EXT);
  cert(
    'ca-tsa',
    '/CN=tsa-that-is-a-ca',
    'root',
    `basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\nextendedKeyUsage=critical,timeStamping\n`,
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a chain of CAs takes the TSA's certificate from the token, through the chain's intermediate", () => {
  const v = verifyTimestamp(stamp('tsa', true), data, [authority('int', 'root')]);
  assert.equal(v.authorityIndex, 0);
  assert.equal(v.timestamp.certificates.length, 1);
});

test('a root alone takes the intermediate the token carries after the TSA certificate', () => {
  const token = stamp('tsa', true, 'int');
  assert.equal(verifyTimestamp(token, data, [authority('root')]).authorityIndex, 0);
  // Another authority first: the one the token chains to is named.
  const v = verifyTimestamp(token, data, [authority('rogue-root'), authority('root')]);
  assert.equal(v.authorityIndex, 1);
});

test('a root alone and a TSA certificate it issued directly', () => {
  assert.equal(verifyTimestamp(stamp('direct', true), data, [authority('root')]).authorityIndex, 0);
});

test('a chain that starts with the TSA certificate needs nothing from the token, as before', () => {
  const v = verifyTimestamp(stamp('tsa', false), data, [authority('tsa', 'int', 'root')]);
  assert.equal(v.timestamp.certificates.length, 0);
});

test('a token without certificates under a chain of CAs only is refused, saying so', () => {
  refused(
    () => verifyTimestamp(stamp('tsa', false), data, [authority('int', 'root')]),
    'TIMESTAMP_UNTRUSTED',
    /carries no certificate.*only CA certificates/,
  );
});

test("a token certificate that does not reach the chain's first CA is refused by the path check", () => {
  // The root alone, and the token carries only the TSA's certificate: no link to the root.
  refused(
    () => verifyTimestamp(stamp('tsa', true), data, [authority('root')]),
    'TIMESTAMP_CHAIN',
    /TSA certificate chain from the trusted root: .*not issued by a CA of the trusted root/,
  );
});

test('a rogue TSA whose names copy the trusted chain is refused at the signature of its intermediate', () => {
  refused(
    () => verifyTimestamp(stamp('rogue', true, 'rogue-int'), data, [authority('root')]),
    'TIMESTAMP_CHAIN',
    /signature on "CN=tsa-intermediate" does not verify/,
  );
  refused(
    () => verifyTimestamp(stamp('rogue', true), data, [authority('int', 'root')]),
    'TIMESTAMP_CHAIN',
    /signing certificate's signature does not verify with the key of its issuer "CN=tsa-intermediate" in the trusted root/,
  );
});

test('a token signed by a CA certificate is refused: the TSA must be an end entity', () => {
  // OpenSSL will not stamp with a CA certificate; Signet's own token maker will.
  const signer = prepareTimestampSigner(
    createPrivateKey(fs.readFileSync(path.join(dir, 'ca-tsa.key'))),
    [der('ca-tsa.crt')],
  );
  const req = parseTimestampRequest(
    encodeTimestampRequest({
      hashAlgorithm: 'sha256',
      digest: createHash('sha256').update(data).digest(),
      certReq: true,
    }),
  );
  const token = createTimestampResponse(signer, req, {
    genTime: new Date(Math.floor(Date.now() / 1000) * 1000),
    serialNumber: 1n,
    policy: '1.2.3.4.1',
  });
  refused(
    () => verifyTimestamp(token, data, [authority('root')]),
    'TIMESTAMP_CHAIN',
    /is a CA certificate, not an end-entity/,
  );
});
