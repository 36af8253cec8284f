// The explorer's HTTP side against a whole stack with entries made by real keyless signing:
// search (every term shape, newest first, paged, across shards), entry pages, the proof
// material, log status, the bundle check through the one verifier, and bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromBase64 } from '../../../src/core/encoding/base64.ts';
import { toHex } from '../../../src/core/encoding/hex.ts';
import { leafHash } from '../../../src/core/merkle/hash.ts';
import { verifyInclusion } from '../../../src/core/merkle/tree.ts';
import { openCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { noteVerifier } from '../../../src/core/note/keys.ts';
import { parseCosignerKey, verifyCosignatures } from '../../../src/core/note/cosignature.ts';
import { parseBundleJSON, serializeBundle } from '../../../src/bundle/bundle.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import { explorerEntryUrl } from '../../../src/client/explorer-link.ts';
import { parseSearchTerm } from '../../../src/services/explorer/query.ts';
import { validityAt } from '../../../src/services/explorer/view.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { setupSigning, signArtifact, signEnvelope } from '../../../src/client/sign/index.ts';
import { stackToken } from '../../helpers/stack.ts';
import {
  ALICE,
  GITHUB_REPO,
  WITNESS_NAME,
  explorerLink,
  explorerStack,
  plainExplorerStack,
  signThrough,
  type ExplorerStack,
  type Signed,
} from '../../e2e/explorer-stack.ts';

let stack: ExplorerStack;
const signed: Signed[] = [];
const uuidOf = (s: Signed) => {
  const b = parseBundleJSON(s.bundle);
  return toHex(leafHash(b.verificationMaterial.tlogEntries[0]!.canonicalizedBody));
};
const certOf = (s: Signed) => {
  const vm = parseBundleJSON(s.bundle).verificationMaterial;
  assert.equal(vm.signer.$case, 'certificate');
  return parseCertificate((vm.signer as { certificate: Uint8Array }).certificate);
};

async function get(path: string) {
  const r = await fetch(`${stack.url}${path}`);
  const raw = await r.text();
  // The templates are laid out by prettier: compare pages with the whitespace around tags gone.
  const text = /^text\/html/.test(r.headers.get('content-type') ?? '')
    ? raw.replace(/\s+/g, ' ').replace(/\s*(<[^>]+>)\s*/g, '$1')
    : raw;
  return { status: r.status, text, headers: r.headers, json: () => JSON.parse(raw) };
}

async function postVerify(body: unknown) {
  const r = await fetch(`${stack.url}/explorer/api/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as any };
}

describe('the explorer over a stack with real entries', () => {
  before(async () => {
    stack = await explorerStack();
    const enc = new TextEncoder();
    // Oldest first: alice on Rekor v2, alice on Rekor v1, then a GitHub Actions workflow.
    signed.push(await signThrough(stack, enc.encode('first artifact\n')));
    signed.push(await signThrough(stack, enc.encode('second artifact\n'), { rekorVersion: 1 }));
    signed.push(await signThrough(stack, enc.encode('built by CI\n'), { github: true }));
  });
  after(async () => stack?.close());

  test('the client prints each entry’s explorer link, and the link opens that entry', async () => {
    for (const s of signed) {
      const link = explorerLink(s);
      assert.equal(link, `${stack.url}/entry/${uuidOf(s)}`);
      const page = await fetch(link);
      assert.equal(page.status, 200);
      assert.match(await page.text(), new RegExp(uuidOf(s)));
    }
    // Other logs have no explorer: no link is made up for them.
    assert.equal(explorerEntryUrl('https://rekor.sigstore.dev', new Uint8Array([1])), undefined);
    assert.equal(
      explorerEntryUrl('http://h:1/base/rekor/shards/2', new Uint8Array([1])),
      `http://h:1/base/entry/${toHex(leafHash(new Uint8Array([1])))}`,
    );
  });

  test('search by email (any case): every entry of that identity, newest first', async () => {
    const r = (
      await get(`/explorer/api/search?q=${encodeURIComponent('Alice@Example.com')}`)
    ).json();
    assert.equal(r.query.kind, 'identity');
    assert.equal(r.total, 2);
    assert.deepEqual(
      r.items.map((i: any) => i.uuid),
      [uuidOf(signed[1]!), uuidOf(signed[0]!)],
    );
    assert.deepEqual(
      r.items.map((i: any) => [i.logIndex, i.kind, i.apiVersion, i.signer]),
      [
        [1, 'hashedrekord', '0.0.1', ALICE],
        [0, 'hashedrekord', '0.0.2', ALICE],
      ],
    );
  });

  test('search by the GitHub workflow identity (a URI SAN) and by issuer', async () => {
    const id = certOf(signed[2]!).subjectAltNames[0]!.value;
    assert.match(id, new RegExp(GITHUB_REPO));
    const r = (await get(`/explorer/api/search?q=${encodeURIComponent(id)}`)).json();
    assert.deepEqual(
      r.items.map((i: any) => i.uuid),
      [uuidOf(signed[2]!)],
    );
    const iss = (
      await get(`/explorer/api/search?q=${encodeURIComponent(`issuer:${stack.url}/oidc`)}`)
    ).json();
    assert.equal(iss.total, 2);
  });

  test('search by artifact digest (bare hex and sha256:), key and certificate fingerprint, index, UUID, entry ID', async () => {
    const hex = createHash('sha256').update(signed[1]!.artifact).digest('hex');
    const cert = certOf(signed[1]!);
    const keyFp = createHash('sha256').update(cert.spki).digest('hex');
    const certFp = createHash('sha256').update(cert.der).digest('hex');
    const want = [uuidOf(signed[1]!)];
    for (const q of [
      hex,
      `sha256:${hex}`,
      `SHA256:${hex.toUpperCase()}`,
      keyFp,
      certFp,
      // As lists name a key signer: `public key sha256:<fingerprint>`.
      `sha256:${keyFp}`,
      `sha256:${certFp}`,
      '1',
      want[0]!,
    ]) {
      const r = (await get(`/explorer/api/search?q=${encodeURIComponent(q)}`)).json();
      assert.deepEqual(
        r.items.map((i: any) => i.uuid),
        want,
        `search for ${q}`,
      );
    }
    const entryId = JSON.parse((await get(`/rekor/api/v1/log/entries?logIndex=1`)).text) as Record<
      string,
      unknown
    >;
    const r = (await get(`/explorer/api/search?q=${Object.keys(entryId)[0]}`)).json();
    assert.deepEqual(
      r.items.map((i: any) => i.uuid),
      want,
    );
  });

  test('results are paged, 20 to a page, newest first across pages', async () => {
    const enc = new TextEncoder();
    const more: Signed[] = [];
    for (let i = 0; i < 20; i++)
      more.push(await signThrough(stack, enc.encode(`page ${i}\n`), { subject: ALICE }));
    const p1 = (await get(`/explorer/api/search?q=${ALICE}`)).json();
    const p2 = (await get(`/explorer/api/search?q=${ALICE}&page=2`)).json();
    assert.equal(p1.total, 22);
    assert.equal(p1.pages, 2);
    assert.equal(p1.items.length, 20);
    assert.equal(p2.items.length, 2);
    const all = [...p1.items, ...p2.items].map((i: any) => i.logIndex);
    assert.deepEqual(
      all,
      [...all].sort((a, b) => b - a),
    );
    assert.equal(p1.items[0].uuid, uuidOf(more.at(-1)!));
    assert.deepEqual(
      p2.items.map((i: any) => i.uuid),
      [uuidOf(signed[1]!), uuidOf(signed[0]!)],
    );
    const html = await get(`/?q=${ALICE}&page=2`);
    assert.equal(html.status, 200);
    assert.match(html.text, /page 2 of 2/);
    assert.match(html.text, /rel="prev" href="\/\?q=alice%40example\.com&amp;page=1"/);
    const beyond = await get(`/?q=${ALICE}&page=3`);
    assert.equal(beyond.status, 400);
    assert.match(beyond.text, /page: is 3, but the results have 2 pages/);
  });

  test('the entry page shows kind, digest, signer, every Fulcio extension by name, validity, index, shard, body and certificate', async () => {
    const s = signed[2]!;
    const page = await get(`/entry/${uuidOf(s)}`);
    assert.equal(page.status, 200);
    assert.match(
      page.headers.get('content-security-policy')!,
      /default-src 'none'; script-src 'self'/,
    );
    const t = page.text;
    const digest = createHash('sha256').update(s.artifact).digest('hex');
    assert.match(t, /Log entry 2<span class="kind">hashedrekord 0\.0\.2<\/span>/);
    assert.match(
      t,
      new RegExp(
        `Signed digest</dt><dd class="digest" data-of="data"><span class="hex"><a href="/\\?q=sha256%3A${digest}">sha256:${digest}</a></span><span class="muted small note" ?>What the signature covers: a signed file's digest or,`,
      ),
    );
    const cert = certOf(s);
    assert.ok(t.includes(cert.subjectAltNames[0]!.value.replace(/&/g, '&#38;')));
    for (const name of [
      'GitHub Workflow Trigger',
      'GitHub Workflow SHA',
      'GitHub Workflow Name',
      'GitHub Workflow Repository',
      'GitHub Workflow Ref',
      'Build Signer URI',
      'Source Repository URI',
      'Run Invocation URI',
      'Issuer',
    ])
      assert.match(t, new RegExp(`<th scope="row">${name}</th>`), name);
    assert.match(t, new RegExp(`<td class="wrap">https://github.com/${GITHUB_REPO}</td>`));
    assert.match(t, /valid at log time/);
    assert.match(t, /\(shard 1, index 2 in the shard\)/);
    assert.match(t, /-----BEGIN CERTIFICATE-----/);
    assert.match(t, /&#34;hashedRekordV002&#34;: \{/); // the body, pretty-printed and escaped
    assert.match(t, /Extended key usage<\/dt><dd>code signing/);
  });

  test('entries are found by global index too (/entry/<n>), and a v1 entry shows its own kind', async () => {
    const page = await get('/entry/1');
    assert.equal(page.status, 200);
    assert.match(page.text, /hashedrekord 0\.0\.1/);
    assert.ok(page.text.includes(uuidOf(signed[1]!)));
  });

  test('the proof material verifies: leaf, inclusion proof and the checkpoint signed by the trusted-root key', async () => {
    const root = (await get('/trusted_root.json')).json();
    for (const s of signed) {
      const { proof } = (await get(`/explorer/api/entries/${uuidOf(s)}`)).json();
      const leaf = leafHash(fromBase64(proof.body, 'body'));
      assert.equal(toHex(leaf), uuidOf(s));
      const key = createPublicKey({
        key: Buffer.from(root.tlogs[0].publicKey.rawBytes, 'base64'),
        format: 'der',
        type: 'spki',
      });
      const cp = openCheckpoint(proof.checkpoint, [noteVerifier(proof.origin, key)], {
        origin: proof.origin,
      });
      // Ends in the witnessed checkpoint, as the v2 entries do, naming the witness's key.
      assert.deepEqual(proof.witnesses, [{ name: WITNESS_NAME, vkey: stack.witness!.vkey }]);
      assert.equal(
        verifyCosignatures(proof.checkpoint, [parseCosignerKey(stack.witness!.vkey)]).length,
        1,
      );
      assert.equal(cp.size, proof.treeSize);
      assert.doesNotThrow(() =>
        verifyInclusion(
          leaf,
          proof.shardIndex,
          proof.treeSize,
          proof.hashes.map((h: string) => fromBase64(h, 'hash')),
          cp.rootHash,
        ),
      );
    }
  });

  test('status: tree size, entries in the last minute, latest checkpoint and the newest entries', async () => {
    const st = (await get('/explorer/api/status')).json();
    assert.equal(st.shards.length, 1);
    const sh = st.shards[0];
    assert.equal(sh.treeSize, 23);
    assert.equal(sh.entriesLastMinute, 23);
    // The checkpoint readers get is the witnessed one, its cosignature checked here.
    assert.equal(sh.checkpointSize, 23);
    assert.match(sh.checkpoint, new RegExp(`^${sh.origin}\\n23\\n`));
    assert.equal(sh.cosignatures.length, 1);
    assert.equal(sh.cosignatures[0].name, WITNESS_NAME);
    assert.ok(Math.abs(sh.cosignatures[0].verifiedAt - st.now) < 120, JSON.stringify(sh));
    assert.equal(st.latest.length, 10);
    assert.deepEqual(
      st.latest.map((e: any) => e.logIndex),
      [22, 21, 20, 19, 18, 17, 16, 15, 14, 13],
    );
    const home = await get('/');
    assert.equal(home.status, 200);
    assert.match(home.text, /<dd class="tree-size">23<\/dd>/);
    assert.match(home.text, /<script type="module" src="\/explorer\/home\.js"><\/script>/);
  });

  test('a dropped bundle is checked by the one verifier, in verify-blob’s words, and says who signed', async () => {
    const s = signed[0]!;
    const b64 = Buffer.from(s.artifact).toString('base64');
    const withFile = await postVerify({
      bundle: s.bundle,
      bundleName: 'a.sigstore.json',
      artifact: { name: 'a.txt', base64: b64 },
    });
    assert.equal(withFile.status, 200);
    assert.equal(withFile.json.ok, true);
    assert.match(
      withFile.json.verdict,
      new RegExp(
        `^Verified OK: signed by ${ALICE} \\(issuer ${stack.url}/oidc\\) at \\d{4}-.*Z \\(timestamp authority\\)$`,
      ),
    );
    assert.deepEqual(withFile.json.signer, {
      identities: [ALICE],
      issuer: `${stack.url}/oidc`,
      verified: true,
    });
    assert.ok(withFile.json.notes.some((n: string) => /^Signed by: +alice@example\.com$/.test(n)));
    // Only the digest (a large file hashed in the browser), and no file at all.
    const digest = `sha256:${createHash('sha256').update(s.artifact).digest('hex')}`;
    const byDigest = await postVerify({ bundle: s.bundle, artifact: { name: 'a.txt', digest } });
    assert.equal(byDigest.json.ok, true);
    const noFile = await postVerify({ bundle: s.bundle });
    assert.equal(noFile.json.ok, true);
    assert.ok(
      noFile.json.notes.some((n: string) =>
        n.includes('not given; checked against the digest the bundle names'),
      ),
    );
    // The wrong file: the verifier's own message.
    const wrong = await postVerify({
      bundle: s.bundle,
      artifact: { name: 'b.txt', base64: 'b3RoZXI=' },
    });
    assert.equal(wrong.json.ok, false);
    assert.match(
      wrong.json.verdict,
      /^error: the artifact's sha256 digest [0-9a-f]{64} is not the digest the bundle says was signed/,
    );
    assert.deepEqual(wrong.json.signer, {
      identities: [ALICE],
      issuer: `${stack.url}/oidc`,
      verified: false,
    });
  });

  test('a tampered bundle fails with the verifier’s reason', async () => {
    const b = JSON.parse(signed[1]!.bundle);
    const sig = Buffer.from(b.messageSignature.signature, 'base64');
    sig[sig.length - 1] ^= 1;
    b.messageSignature.signature = sig.toString('base64');
    const r = await postVerify({
      bundle: JSON.stringify(b),
      artifact: { name: 'x', base64: Buffer.from(signed[1]!.artifact).toString('base64') },
    });
    assert.equal(r.json.ok, false);
    assert.match(r.json.verdict, /^error: .*signature/);
  });

  test('bad input: a file that is not a bundle, a body too large, a malformed request', async () => {
    const notBundle = await postVerify({
      bundle: 'hello, I am a text file',
      bundleName: 'notes.txt',
    });
    assert.equal(notBundle.status, 200);
    assert.equal(notBundle.json.ok, false);
    assert.match(notBundle.json.verdict, /^error: notes\.txt is not a valid Sigstore bundle: /);
    const big = await postVerify({ bundle: 'x'.repeat(30 * 1024 * 1024) });
    assert.equal(big.status, 413);
    assert.match(big.json.message, /larger than the limit of \d+ bytes/);
    const tooBigBundle = await postVerify({ bundle: 'x'.repeat(16 * 1024 * 1024 + 1) });
    assert.equal(tooBigBundle.status, 400);
    assert.match(
      tooBigBundle.json.message,
      /^bundle: is 16777217 bytes; a bundle is at most 16 MiB/,
    );
    for (const [body, msg] of [
      ['[]', /must be a JSON object/],
      ['{"bundle":""}', /^bundle: is required/],
      ['{"bundle":"{}","extra":1}', /^extra: is not a known field/],
      ['{"bundle":"{}","artifact":{"digest":"md5:00"}}', /^artifact\.digest: must be sha256:/],
      [
        '{"bundle":"{}","artifact":{"base64":"AA==","digest":"sha256:00"}}',
        /^artifact: give exactly one/,
      ],
      ['not json', /^request body is not valid JSON \(unexpected "o"\)$/],
      // A key twice: refused naming it (JSON.parse kept the last, here the empty bundle).
      ['{"bundle":"{}","bundle":""}', /^request body has the key "bundle" twice in one object$/],
      ['{"__proto__":{},"bundle":"{}"}', /^__proto__: is not a known field$/],
    ] as const) {
      const r = await postVerify(body);
      assert.equal(r.status, 400, body);
      assert.match(r.json.message, msg, body);
    }
    // A JSON request of another media type, or of none, is refused naming it (a string body
    // would be "must be a JSON object", which names neither).
    for (const type of ['text/plain', undefined]) {
      const r = await fetch(`${stack.url}/explorer/api/verify`, {
        method: 'POST',
        headers: type === undefined ? {} : { 'content-type': type },
        body: Buffer.from(JSON.stringify({ bundle: signed[0]!.bundle })),
      });
      assert.equal(r.status, 415);
      assert.equal(
        ((await r.json()) as { message: string }).message,
        `${type === undefined ? 'no Content-Type' : 'unsupported Content-Type "text/plain"'}: send application/json`,
      );
    }
  });

  test('bad search terms and references: a clear message on a page with the right status', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['/?q=', 400, /q: is empty: give a log index/],
      [
        '/?q=abc123',
        400,
        /&#34;abc123&#34; is 6 hex digits: an entry UUID, SHA-256 digest or fingerprint has 64/,
      ],
      ['/?q=sha256%3A1234', 400, /q: must be \[sha256:/],
      ['/?q=007', 400, /is not a log index/],
      ['/?q=two%09words', 400, /holds the control character U\+0009/],
      [`/?q=${'a'.repeat(1016)}`, 400, /is 1016 characters long; a search term is at most 1015/],
      [
        '/entry/999999',
        404,
        /log index 999999 is beyond the log: it holds 23 entries \(indexes 0 to 22\)/,
      ],
      [`/entry/${'ab'.repeat(32)}`, 404, /the log has no entry with UUID abab/],
      [
        '/entry/not-a-uuid',
        400,
        /entry: must be a log index, a 64-hex-digit UUID or an 80-hex-digit entry ID/,
      ],
      [`/entry/${uuidOf(signed[0]!)}?shard=7`, 404, /the log has no shard 7/],
      // A log index names its shard: another one asked for is not that entry.
      ['/entry/0?shard=7', 404, /log index 0 is in shard 1, not in shard 7/],
      // A parameter given twice (a hand-edited link): a page too, not a JSON error.
      ['/?q=a%40b.c&q=d%40e.f', 400, /q: must be given once/],
      ['/?q=a%40b.c&page=1&page=2', 400, /page: must be given once/],
      [`/entry/${uuidOf(signed[0]!)}?shard=1&shard=2`, 400, /shard: must be given once/],
    ];
    for (const [path, status, msg] of cases) {
      const r = await get(path);
      assert.equal(r.status, status, path);
      assert.match(r.headers.get('content-type')!, /^text\/html/, path);
      assert.match(r.text, /<p class="error" role="alert">/, path);
      assert.match(r.text, msg, path);
      assert.doesNotMatch(r.text, /at .*\.ts:\d+/, path);
    }
    const api = await get('/explorer/api/search?q=12345678901234567');
    assert.equal(api.status, 400);
    assert.match(api.json().message, /is not a log index/);
    const elsewhere = await get('/explorer/api/entries/0?shard=7');
    assert.equal(elsewhere.status, 404);
    assert.match(elsewhere.json().message, /log index 0 is in shard 1, not in shard 7/);
    const beyond = await get('/explorer/api/entries/500');
    assert.equal(beyond.status, 404);
    assert.match(beyond.json().message, /beyond the log/);
  });

  test('a URL that fails before routing or that no route takes: a browser gets the page, an API client JSON', async () => {
    const long = `/entry/${'a'.repeat(150)}`;
    const cases: Array<[string, number, string, RegExp, RegExp]> = [
      [
        long,
        414,
        'Not an entry reference',
        /^entry: is 150 characters long: must be a log index, a 64-hex-digit UUID or an 80-hex-digit entry ID$/,
        /^the request path has a part longer than 100 characters, which no route takes$/,
      ],
      [
        '/entry/%zz',
        400,
        'Not an entry reference',
        /^the request URL is not valid: it has a malformed percent-escape$/,
        /malformed percent-escape/,
      ],
      [
        '/entry/abc/def',
        404,
        'No such page',
        /^there is no page at \/entry\/abc\/def: an entry&#39;s page is \/entry\/&#60;log index, UUID or entry ID&#62;$/,
        /^no route for GET \/entry\/abc\/def$/,
      ],
    ];
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    for (const [path, status, title, pageReason, jsonReason] of cases) {
      const page = await fetch(`${stack.url}${path}`, { headers: { accept: browser } });
      assert.equal(page.status, status, path);
      assert.match(page.headers.get('content-type')!, /^text\/html/, path);
      assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/, path);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff', path);
      const html = await page.text();
      assert.ok(html.includes(`<title>${title} · Signet explorer</title>`), path);
      const reason = /<p class="error" role="alert">([^<]*)<\/p>/.exec(html)?.[1] ?? '';
      assert.match(reason, pageReason, path);
      for (const accept of ['application/json', '*/*']) {
        const api = await fetch(`${stack.url}${path}`, { headers: { accept } });
        assert.equal(api.status, status, `${path} ${accept}`);
        assert.match(api.headers.get('content-type')!, /^application\/json/);
        assert.match(((await api.json()) as { message: string }).message, jsonReason);
      }
    }
    // Other services' paths answer JSON, whoever asks.
    for (const path of [`/rekor/api/v1/log/entries/${'a'.repeat(150)}`, '/rekor/nothing']) {
      const r = await fetch(`${stack.url}${path}`, { headers: { accept: browser } });
      assert.match(r.headers.get('content-type')!, /^application\/json/, path);
    }
  });

  test('a search term holding markup and script is escaped wherever it is shown', async () => {
    const escaped = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    // No spaces: searched as an identity, shown in the heading and kept in the search box.
    const term = `"><script>alert(1)</script><b>x</b>@x`;
    const r = await get(`/?q=${encodeURIComponent(term)}`);
    assert.equal(r.status, 200);
    assert.equal(r.text.split(escaped(term)).length - 1, 4); // title, box, query line, "no entry" line
    assert.doesNotMatch(r.text, /<script>alert|<b>x/);
    // With spaces (an identity may hold them) and on an error page: still only text.
    const bad = `<img src=x onerror=alert(2)> "'&`;
    const spaced = await get(`/?q=${encodeURIComponent(bad)}`);
    assert.equal(spaced.status, 200);
    assert.ok(spaced.text.includes(`value="${escaped(bad)}"`));
    assert.doesNotMatch(spaced.text, /<img src=x/);
    const e = await get(`/?q=${encodeURIComponent(`${bad}\u0007`)}`);
    assert.equal(e.status, 400);
    assert.ok(e.text.includes(`value="${escaped(bad)}`));
    assert.doesNotMatch(e.text, /<img src=x/);
  });

  test('no answer may be sniffed as another type; pages may not be framed', async () => {
    // The JSON API reflects search terms: it must never be read as a page.
    for (const path of [
      `/explorer/api/search?q=${encodeURIComponent('<script>x</script>@x')}`,
      '/explorer/api/status',
      '/explorer/api/entries/zz',
      '/explorer/nothing.js',
      '/explorer/home.js',
    ]) {
      const r = await get(path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    }
    for (const path of ['/', '/?q=x%40y', '/?q=', `/entry/${uuidOf(signed[0]!)}`]) {
      const r = await get(path);
      assert.match(r.headers.get('content-security-policy')!, /frame-ancestors 'none'/, path);
      // For browsers that know only the older header.
      assert.equal(r.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  test('a file signed with an Ed25519 key is found by its bare SHA-512, as sha512sum prints it', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-explorer-ed-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const keyFile = path.join(dir, 'ed.pem');
    fs.writeFileSync(
      keyFile,
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const artifact = new TextEncoder().encode('signed with ed25519\n');
    const ctx = await setupSigning({
      server: stack.url,
      key: keyFile,
      tufCacheDir: stack.tufCache,
      env: {},
    });
    const e = (await signArtifact(artifact, ctx)).verificationMaterial.tlogEntries[0]!;
    const sha512 = createHash('sha512').update(artifact).digest('hex');
    const r = (await get(`/explorer/api/search?q=${sha512}`)).json();
    assert.equal(r.query.kind, 'digest');
    assert.deepEqual(
      r.items.map((i: any) => i.uuid),
      [toHex(leafHash(e.canonicalizedBody))],
    );
  });

  test('certificate validity at the log time: before, at both ends, after', () => {
    const c = certOf(signed[0]!);
    const from = c.notBefore.getTime() / 1000;
    const to = c.notAfter.getTime() / 1000;
    assert.equal(validityAt(c, from - 1), 'not-yet-valid');
    assert.equal(validityAt(c, from), 'valid');
    assert.equal(validityAt(c, to), 'valid');
    assert.equal(validityAt(c, to + 1), 'expired');
  });

  test('search terms are read into one shape each', () => {
    assert.deepEqual(parseSearchTerm(' 12 '), { kind: 'index', index: 12 });
    assert.deepEqual(parseSearchTerm('A'.repeat(64)), { kind: 'hex', hex: 'a'.repeat(64) });
    assert.deepEqual(parseSearchTerm('Bob@Example.COM'), {
      kind: 'identity',
      identity: 'Bob@Example.COM',
    });
    assert.deepEqual(
      parseSearchTerm('https://github.com/O/R/.github/workflows/x.yml@refs/heads/main'),
      {
        kind: 'identity',
        identity: 'https://github.com/O/R/.github/workflows/x.yml@refs/heads/main',
      },
    );
    assert.deepEqual(parseSearchTerm('issuer:https://x'), { kind: 'issuer', issuer: 'https://x' });
    assert.deepEqual(parseSearchTerm(`sha512:${'0'.repeat(128)}`), {
      kind: 'digest',
      key: `sha512:${'0'.repeat(128)}`,
    });
    // Bare, as sha384sum and sha512sum print them.
    assert.deepEqual(parseSearchTerm('A'.repeat(128)), {
      kind: 'digest',
      key: `sha512:${'a'.repeat(128)}`,
    });
    assert.deepEqual(parseSearchTerm('b'.repeat(96)), {
      kind: 'digest',
      key: `sha384:${'b'.repeat(96)}`,
    });
    // A git commit ID, bare (40 hex digits are a SHA-1 digest's too) or named as a statement
    // names it; 64 bare hex digits are a SHA-256 repository's commit among the others (view.ts).
    assert.deepEqual(parseSearchTerm('C'.repeat(40)), {
      kind: 'commit',
      keys: [`gitcommit:${'c'.repeat(40)}`, `sha1:${'c'.repeat(40)}`],
    });
    assert.deepEqual(parseSearchTerm(`gitCommit:${'D'.repeat(64)}`), {
      kind: 'commit',
      keys: [`gitcommit:${'d'.repeat(64)}`],
    });
    assert.throws(
      () => parseSearchTerm('gitcommit:abc'),
      /^.*q: "gitcommit:abc" is not gitCommit:/,
    );
  });
});

describe('the explorer across log shards (after a key rotation)', () => {
  let s2: ExplorerStack;
  const before1: Signed[] = [];
  const after2: Signed[] = [];
  before(async () => {
    const enc = new TextEncoder();
    const first = await plainExplorerStack();
    before1.push(await signThrough(first, enc.encode('before rotation\n'), { rekorVersion: 1 }));
    await first.close();
    KeyRing.rotate(first.dataDir, 'rekor');
    s2 = await plainExplorerStack(first.dataDir);
    after2.push(await signThrough(s2, enc.encode('after rotation\n')));
  });
  after(async () => s2?.close());

  const fetchJson = async (p: string) => (await fetch(`${s2.url}${p}`)).json() as Promise<any>;

  test('search spans both shards, newest (the new shard) first; indexes continue', async () => {
    const r = await fetchJson(`/explorer/api/search?q=${ALICE}`);
    assert.deepEqual(
      r.items.map((i: any) => [i.uuid, i.shard, i.shardIndex, i.logIndex]),
      [
        [uuidOf(after2[0]!), 2, 0, 1],
        [uuidOf(before1[0]!), 1, 0, 0],
      ],
    );
    const st = await fetchJson('/explorer/api/status');
    assert.deepEqual(
      st.shards.map((s: any) => [s.id, s.active, s.treeSize]),
      [
        [1, false, 1],
        [2, true, 1],
      ],
    );
    const old = await fetchJson(`/explorer/api/entries/${uuidOf(before1[0]!)}`);
    assert.equal(old.proof.shard, 1);
    assert.match(old.proof.checkpoint, /\/rekor\/shards\/1\n1\n/);
  });

  test('the same entry logged again in the new shard: both have pages, each names the other', async () => {
    // A v1 canonical body is itself a valid proposed entry: the new shard takes it again.
    const body = parseBundleJSON(before1[0]!.bundle).verificationMaterial.tlogEntries[0]!
      .canonicalizedBody;
    const r = await fetch(`${s2.url}/rekor/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body),
    });
    assert.equal(r.status, 201, await r.text());
    const uuid = uuidOf(before1[0]!);
    const oldest = await fetch(`${s2.url}/entry/${uuid}`);
    const t1 = await oldest.text();
    assert.match(t1, /\(shard 1, index 0 in the shard\)/);
    assert.match(t1, new RegExp(`href="/entry/${uuid}\\?shard=2"`));
    const newer = await fetch(`${s2.url}/entry/${uuid}?shard=2`);
    const t2 = await newer.text();
    assert.match(t2, /\(shard 2, index 1 in the shard\)/);
    assert.match(t2, new RegExp(`href="/entry/${uuid}\\?shard=1"`));
  });
});

describe('an attestation entry (dsse)', () => {
  let s3: ExplorerStack;
  after(async () => s3?.close());

  test('its page shows the dsse kind and the payload digest; a dropped attestation bundle checks against its subject', async () => {
    s3 = await plainExplorerStack();
    const artifact = new TextEncoder().encode('the attested file\n');
    const sha = createHash('sha256').update(artifact).digest('hex');
    const statement = new TextEncoder().encode(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'file.txt', digest: { sha256: sha } }],
        predicateType: 'https://example.com/review/v1',
        predicate: { ok: true },
      }),
    );
    const ctx = await setupSigning({
      server: s3.url,
      identityToken: await stackToken(s3.url, ALICE),
      tufCacheDir: s3.tufCache,
      interactive: 'never',
      env: {},
      rekorVersion: 1,
    });
    const bundle = serializeBundle(
      await signEnvelope(statement, 'application/vnd.in-toto+json', ctx),
    );
    const b = parseBundleJSON(bundle);
    const uuid = toHex(leafHash(b.verificationMaterial.tlogEntries[0]!.canonicalizedBody));
    const page = await (await fetch(`${s3.url}/entry/${uuid}`)).text();
    assert.match(page, /dsse, version 0\.0\.1/);
    const payloadSha = createHash('sha256').update(statement).digest('hex');
    assert.match(
      page,
      new RegExp(
        `Payload digest\\s*</dt>\\s*<dd class="digest" data-of="payload">\\s*<span class="hex">\\s*<a href="/\\?q=sha256%3A${payloadSha}"`,
      ),
    );
    assert.match(page, /Envelope digest/);
    const found = (await (
      await fetch(`${s3.url}/explorer/api/search?q=sha256:${payloadSha}`)
    ).json()) as any;
    assert.deepEqual(
      found.items.map((i: any) => i.uuid),
      [uuid],
    );
    const check = async (body: unknown) =>
      (await (
        await fetch(`${s3.url}/explorer/api/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as any;
    const bySubject = await check({ bundle });
    assert.equal(bySubject.ok, true, bySubject.verdict);
    assert.ok(bySubject.notes.some((n: string) => n.includes(`subject sha256:${sha}`)));
    const withFile = await check({
      bundle,
      artifact: { name: 'file.txt', base64: Buffer.from(artifact).toString('base64') },
    });
    assert.equal(withFile.ok, true, withFile.verdict);
    const otherFile = await check({ bundle, artifact: { name: 'other.txt', base64: 'b3RoZXI=' } });
    assert.match(otherFile.verdict, /^error: the attestation is not about this artifact/);
  });

  test('an attestation logged whole in Rekor v2 (dsse 0.0.2, Ed25519) is found by its subject’s digest', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-explorer-ed-'));
    const keyFile = path.join(dir, 'ed.pem');
    const { privateKey } = generateKeyPairSync('ed25519');
    fs.writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sha = createHash('sha256').update('attested in v2\n').digest('hex');
    const statement = new TextEncoder().encode(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'v2.txt', digest: { sha256: sha } }],
        predicateType: 'https://example.com/review/v1',
        predicate: {},
      }),
    );
    const ctx = await setupSigning({
      server: s3.url,
      key: keyFile,
      tufCacheDir: s3.tufCache,
      env: {},
      rekorVersion: 2,
    });
    const b = await signEnvelope(statement, 'application/vnd.in-toto+json', ctx);
    const entry = b.verificationMaterial.tlogEntries[0]!;
    assert.equal(`${entry.kind} ${entry.kindVersion}`, 'dsse 0.0.2');
    const found = (await (
      await fetch(`${s3.url}/explorer/api/search?q=sha256:${sha}`)
    ).json()) as any;
    assert.deepEqual(
      found.items.map((i: any) => i.uuid),
      [toHex(leafHash(entry.canonicalizedBody))],
    );
  });
});
