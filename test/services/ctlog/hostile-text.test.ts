import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMerkleTreeLeaf } from '../../../src/core/ct/sct.ts';
import { TAG, oid, tlv } from '../../../src/core/encoding/der.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';
import { OID } from '../../../src/core/x509/certificate.ts';
import {
  buildPlainCertificate,
  buildPrecertificate,
  leafTbsSpec,
} from '../../../src/core/x509/fulcio-profile.ts';
import { bindServer, createApp } from '../../../src/services/http/app.ts';
import { ctlogService } from '../../../src/services/ctlog/service.ts';
import { freshDatabase } from '../../helpers/postgres.ts';
import { createService, serviceContext } from '../context.ts';
import { ca, spki } from './fixtures.ts';

/**
 * The CT log keeps certificates as bytes: names PostgreSQL's text cannot hold (a NUL in an
 * email SAN, in a username, in the Fulcio issuer) are logged like any other, beside the
 * certificates submitted with them, on both backends.
 */

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const root = ca('root');

/** A precertificate and a final certificate with exactly these SAN bytes and issuer. */
function hostileLeaf(san: Uint8Array, issuer: string) {
  const spec = leafTbsSpec(root, {
    spki: spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
    san: { type: 'email', value: 'x@y.z' },
    extensions: { 1: issuer, 8: issuer },
  });
  spec.extensions = spec.extensions.map((e) =>
    e.oid === OID.subjectAltName ? { ...e, value: tlv(TAG.SEQUENCE, san) } : e,
  );
  return { pre: buildPrecertificate(root, spec).der, plain: buildPlainCertificate(root, spec) };
}

const utf8 = (s: string) => new TextEncoder().encode(s);

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`CT log on ${backend}: certificates naming text a database may not hold`, () => {
    let url: string;
    let close: (() => Promise<void>) | undefined;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      let databaseUrl: string | undefined;
      if (backend === 'postgres') ({ url: databaseUrl, drop } = await freshDatabase());
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ctlog-text-'));
      fs.writeFileSync(
        path.join(dataDir, 'root.pem'),
        encodePem('CERTIFICATE', root.certificate.der),
      );
      const bound = await bindServer(0, '127.0.0.1');
      url = bound.url;
      const app = createApp({}, () => bound.server as http.Server);
      const mod = await createService(
        ctlogService,
        serviceContext({ dataDir, baseUrl: url, databaseUrl }),
        { roots: [path.join(dataDir, 'root.pem')], batchMaxAgeMs: 300 },
      );
      close = async () => {
        await app.close();
        await new Promise<void>((r) => {
          bound.server.close(() => r());
          bound.server.closeAllConnections();
        });
        await mod.close();
      };
      await app.register(async (s) => mod.register(s), { prefix: '/ctlog' });
      await app.ready();
    });
    after(async () => {
      await close?.();
      await drop?.();
    });

    const call = async (p: string, body?: unknown) => {
      const res = await fetch(`${url}/ctlog/ct/v1/${p}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body !== undefined && {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      });
      return { status: res.status, text: await res.text() };
    };

    it('are logged, with the certificates submitted beside them', async () => {
      const username = tlv(
        0xa0,
        new Uint8Array([
          ...oid('1.3.6.1.4.1.57264.1.7'),
          ...tlv(0xa0, tlv(TAG.UTF8_STRING, utf8('user\0name'))),
        ]),
      );
      const leaves = [
        hostileLeaf(tlv(0x81, utf8('mallory@example.com\0victim')), 'https://i'),
        hostileLeaf(username, 'https://i'),
        hostileLeaf(tlv(0x86, utf8('https://x/\0')), 'https://issuer.example/\0'),
        ...Array.from({ length: 4 }, (_, i) =>
          hostileLeaf(tlv(0x81, utf8(`good${i}@example.com`)), 'https://i'),
        ),
      ];
      const chain = (c: Uint8Array) => ({ chain: [b64(c), b64(root.certificate.der)] });
      const answers = await Promise.all([
        ...leaves.map((l) => call('add-pre-chain', chain(l.pre))),
        ...leaves.map((l) => call('add-chain', chain(l.plain))),
      ]);
      for (const a of answers) assert.equal(a.status, 200, a.text);
      const sth = JSON.parse((await call('get-sth')).text) as { tree_size: number };
      assert.equal(sth.tree_size, leaves.length * 2);
      const got = JSON.parse((await call(`get-entries?start=0&end=${sth.tree_size - 1}`)).text) as {
        entries: Array<{ leaf_input: string }>;
      };
      const logged = got.entries.map((e) =>
        parseMerkleTreeLeaf(new Uint8Array(Buffer.from(e.leaf_input, 'base64'))),
      );
      for (const l of leaves)
        assert.ok(
          logged.some(
            (x) => x.entry.type === 'x509' && Buffer.from(x.entry.certificate).equals(l.plain),
          ),
        );
    });
  });
}
