import assert from 'node:assert/strict';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  issuerKeyHash,
  parseMerkleTreeLeaf,
  sctFromJson,
  tbsWithoutPoison,
  verifySct,
} from '../../../src/core/ct/sct.ts';
import { parseChainExtraData, verifyTreeHead } from '../../../src/core/ct/sth.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/core/merkle/index.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';
import { bindServer, createApp } from '../../../src/services/http/app.ts';
import { ctlogService, type CtlogServiceModule } from '../../../src/services/ctlog/service.ts';
import { CtLog, STH_MAX_AGE_MS } from '../../../src/services/ctlog/ctlog.ts';
import { ca, leaf } from './fixtures.ts';
import { createService, serviceContext } from '../context.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

const root = ca('root');
const ica = ca('ica', root);

let url: string;
let mod: CtlogServiceModule;
let close: () => Promise<void>;
let logKey: KeyObject;

before(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ctlog-'));
  const bound = await bindServer(0, '127.0.0.1');
  url = bound.url;
  const app = createApp({}, () => bound.server as http.Server);
  const started: { mod?: CtlogServiceModule } = {};
  // Set first, so a failure below still closes the server (an open server hangs the runner).
  close = async () => {
    await app.close();
    await new Promise<void>((r) => {
      bound.server.close(() => r());
      bound.server.closeAllConnections();
    });
    await started.mod?.close();
  };
  fs.writeFileSync(path.join(dataDir, 'root.pem'), encodePem('CERTIFICATE', root.certificate.der));
  mod = await createService(ctlogService, serviceContext({ dataDir, baseUrl: url }), {
    roots: [path.join(dataDir, 'root.pem')],
    batchMaxAgeMs: 1,
  });
  started.mod = mod;
  await app.register(async (s) => mod.register(s), { prefix: '/ctlog' });
  await app.ready();
  const t = (await mod.trust!()) as {
    ctlogs: Array<{ publicKey: { rawBytes: string }; logId: { keyId: string } }>;
  };
  logKey = createPublicKey({
    key: Buffer.from(t.ctlogs[0]!.publicKey.rawBytes, 'base64'),
    format: 'der',
    type: 'spki',
  });
  assert.equal(
    t.ctlogs[0]!.logId.keyId,
    createHash('sha256')
      .update(Buffer.from(t.ctlogs[0]!.publicKey.rawBytes, 'base64'))
      .digest('base64'),
  );
});
after(async () => {
  if (close) await close();
});

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(`${url}/ctlog/ct/v1/${p}`, {
    method,
    ...(body !== undefined
      ? {
          headers: { 'content-type': 'application/json' },
          // A string is sent as it is: JSON text JSON.stringify cannot write.
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }
      : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('add-pre-chain returns an RFC 6962 SCT over the precert entry; a resubmission gets the same timestamp', async () => {
  const { pre } = leaf(ica, 'a@x.y');
  const res = await call('POST', 'add-pre-chain', { chain: [b64(pre), b64(ica.certificate.der)] });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const sct = sctFromJson(res.json);
  const entry = {
    type: 'precert' as const,
    issuerKeyHash: issuerKeyHash(ica.certificate.spki),
    tbs: tbsWithoutPoison(parseCertificate(pre)),
  };
  assert.equal(verifySct(sct, entry, logKey), true);
  const again = sctFromJson(
    (
      await call('POST', 'add-pre-chain', {
        chain: [b64(pre), b64(ica.certificate.der), b64(root.certificate.der)],
      })
    ).json,
  );
  assert.equal(again.timestamp, sct.timestamp);
  assert.equal(verifySct(again, entry, logKey), true);
});

test('add-chain logs a final certificate; get-entries returns leaf_input and extra_data', async () => {
  const { plain } = leaf(ica, 'b@x.y');
  const res = await call('POST', 'add-chain', { chain: [b64(plain), b64(ica.certificate.der)] });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const sct = sctFromJson(res.json);
  assert.equal(verifySct(sct, { type: 'x509', certificate: plain }, logKey), true);
  const sth = (await call('GET', 'get-sth')).json as { tree_size: number };
  const entries = (await call('GET', `get-entries?start=0&end=${sth.tree_size - 1}`)).json as {
    entries: Array<{ leaf_input: string; extra_data: string }>;
  };
  const found = entries.entries.map((e) => ({
    leaf: parseMerkleTreeLeaf(new Uint8Array(Buffer.from(e.leaf_input, 'base64'))),
    extra: new Uint8Array(Buffer.from(e.extra_data, 'base64')),
  }));
  const mine = found.find(
    (f) => f.leaf.entry.type === 'x509' && Buffer.from(f.leaf.entry.certificate).equals(plain),
  )!;
  assert.equal(mine.leaf.timestamp, sct.timestamp);
  assert.deepEqual(parseChainExtraData(mine.extra, false).chain, [
    ica.certificate.der,
    root.certificate.der,
  ]);
  const pre = found.find((f) => f.leaf.entry.type === 'precert')!;
  const ed = parseChainExtraData(pre.extra, true);
  assert.equal(
    parseCertificate(ed.precertificate!).extensions.at(-1)!.oid,
    '1.3.6.1.4.1.11129.2.4.3',
  );
});

test('get-sth is signed; proofs by hash and consistency verify against it', async () => {
  const first = (await call('GET', 'get-sth')).json as Record<string, unknown>;
  await call('POST', 'add-chain', {
    chain: [b64(leaf(ica, 'c@x.y').plain), b64(ica.certificate.der)],
  });
  const sthJson = (await call('GET', 'get-sth')).json as Record<string, unknown>;
  const sth = {
    treeSize: sthJson['tree_size'] as number,
    timestamp: sthJson['timestamp'] as number,
    rootHash: new Uint8Array(Buffer.from(sthJson['sha256_root_hash'] as string, 'base64')),
    treeHeadSignature: new Uint8Array(
      Buffer.from(sthJson['tree_head_signature'] as string, 'base64'),
    ),
  };
  assert.equal(verifyTreeHead(logKey, sth), true);
  assert.equal(sth.treeSize, (first['tree_size'] as number) + 1);
  const e = (await call('GET', `get-entries?start=0&end=0`)).json as {
    entries: Array<{ leaf_input: string }>;
  };
  const lh = createHash('sha256')
    .update(Buffer.from([0]))
    .update(Buffer.from(e.entries[0]!.leaf_input, 'base64'))
    .digest();
  const p = (
    await call(
      'GET',
      `get-proof-by-hash?hash=${encodeURIComponent(lh.toString('base64'))}&tree_size=${sth.treeSize}`,
    )
  ).json as {
    leaf_index: number;
    audit_path: string[];
  };
  assert.equal(p.leaf_index, 0);
  verifyInclusion(
    lh,
    0,
    sth.treeSize,
    p.audit_path.map((h) => new Uint8Array(Buffer.from(h, 'base64'))),
    sth.rootHash,
  );
  const c = (
    await call('GET', `get-sth-consistency?first=${first['tree_size']}&second=${sth.treeSize}`)
  ).json as { consistency: string[] };
  verifyConsistency(
    first['tree_size'] as number,
    sth.treeSize,
    c.consistency.map((h) => new Uint8Array(Buffer.from(h, 'base64'))),
    new Uint8Array(Buffer.from(first['sha256_root_hash'] as string, 'base64')),
    sth.rootHash,
  );
  const roots = (await call('GET', 'get-roots')).json as { certificates: string[] };
  assert.deepEqual(roots.certificates, [b64(root.certificate.der)]);
});

test('bad inputs get a 4xx naming the field and log nothing', async () => {
  const before = ((await call('GET', 'get-sth')).json as { tree_size: number }).tree_size;
  const other = ca('other');
  const { pre, plain } = leaf(ica, 'd@x.y');
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['POST', 'add-chain', { chain: 'x' }, 400, /chain: must be an array/],
    // A key twice (JSON.parse kept the last): refused, naming it, as every service's body.
    [
      'POST',
      'add-chain',
      `{"chain":[],"chain":${JSON.stringify([b64(plain), b64(ica.certificate.der)])}}`,
      400,
      /^request body has the key "chain" twice in one object$/,
    ],
    [
      'POST',
      'add-pre-chain',
      '{nope',
      400,
      /^request body is not valid JSON \(a syntax error at position 1\)$/,
    ],
    ['POST', 'add-chain', [], 400, /body: must be a JSON object/],
    ['POST', 'add-chain', { chain: ['***'] }, 400, /chain\[0\]: is not valid base64/],
    ['POST', 'add-chain', { chain: [b64(pre), b64(ica.certificate.der)] }, 400, /add-pre-chain/],
    [
      'POST',
      'add-pre-chain',
      { chain: [b64(plain), b64(ica.certificate.der)] },
      400,
      /not a precertificate/,
    ],
    [
      'POST',
      'add-pre-chain',
      { chain: [b64(pre), b64(other.certificate.der)] },
      400,
      /signature does not verify/,
    ],
    [
      'POST',
      'add-chain',
      { chain: [b64(other.certificate.der)] },
      400,
      /not issued by a root this log accepts/,
    ],
    ['GET', 'get-entries?start=5&end=1', undefined, 400, /start: 5 is larger than end/],
    ['GET', 'get-entries?start=1000&end=1001', undefined, 400, /beyond the current tree size/],
    ['GET', 'get-entries?start=-1&end=1', undefined, 400, /start: must be given/],
    ['GET', 'get-sth-consistency?first=1', undefined, 400, /second: must be given/],
    [
      'GET',
      'get-sth-consistency?first=1&second=99999',
      undefined,
      400,
      /larger than the current tree size/,
    ],
    ['GET', 'get-proof-by-hash?hash=AAAA&tree_size=1', undefined, 400, /hash: must be a 32-byte/],
    [
      'GET',
      `get-proof-by-hash?hash=${encodeURIComponent(b64(new Uint8Array(32)))}&tree_size=1`,
      undefined,
      404,
      /no entry with that leaf hash/,
    ],
    [
      'GET',
      `get-proof-by-hash?hash=${encodeURIComponent(b64(new Uint8Array(32)))}&tree_size=0`,
      undefined,
      400,
      /tree_size: must be from 1/,
    ],
  ];
  for (const [method, p, body, status, re] of cases) {
    const res = await call(method, p, body);
    assert.equal(res.status, status, `${p}: ${JSON.stringify(res.json)}`);
    assert.match(String(res.json['message']), re, p);
  }
  assert.equal(((await call('GET', 'get-sth')).json as { tree_size: number }).tree_size, before);
});

test('add-pre-chain reads its JSON body whatever the Content-Type, as CTFE does (curl -d sends a form type)', async () => {
  const { pre } = leaf(ica, 'curl@x.y');
  const body = JSON.stringify({ chain: [b64(pre), b64(ica.certificate.der)] });
  for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
    const res = await fetch(`${url}/ctlog/ct/v1/add-pre-chain`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });
    assert.equal(res.status, 200, `${type}: ${await res.clone().text()}`);
    assert.equal(((await res.json()) as { sct_version: number }).sct_version, 0);
    // The same one reader for any type: a key twice is refused.
    const twice = await fetch(`${url}/ctlog/ct/v1/add-pre-chain`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: body.replace('{"chain":', '{"chain":[],"chain":'),
    });
    assert.equal(twice.status, 400, type);
    assert.equal(
      ((await twice.json()) as { message: string }).message,
      'request body has the key "chain" twice in one object',
    );
  }
});

test('get-sth: the timestamp is current (an idle log signs its head again after a minute) and grows with every new head', async () => {
  let now = 1_800_000_000_000;
  const log = new CtLog(mod.log.engine, mod.log.signer, { now: () => now });
  log.addRoot(root.certificate.der);
  const first = await log.sth();
  assert.equal(first.timestamp, now);
  now += STH_MAX_AGE_MS - 1;
  assert.equal(await log.sth(), first, 'within the minute: the same head');
  now += 1;
  const later = await log.sth();
  assert.equal(later.timestamp, now, 'an unchanged tree gets a head with the current time');
  assert.equal(later.treeSize, first.treeSize);
  assert.equal(verifyTreeHead(logKey, later), true);
  // A new tree in the same millisecond, then with the clock stepped back: still later.
  await log.addPreChain([leaf(ica, 'sth1@x.y').pre, ica.certificate.der]);
  const grown = await log.sth();
  assert.equal(grown.treeSize, later.treeSize + 1);
  assert.ok(grown.timestamp > later.timestamp, `${grown.timestamp} > ${later.timestamp}`);
  now -= 5000;
  await log.addPreChain([leaf(ica, 'sth2@x.y').pre, ica.certificate.der]);
  const back = await log.sth();
  assert.ok(back.timestamp > grown.timestamp, `${back.timestamp} > ${grown.timestamp}`);
  assert.equal(verifyTreeHead(logKey, back), true);
});
