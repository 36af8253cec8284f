/**
 * Independent checks of the git signature format, against a stack on loopback:
 *  - OpenSSL verifies the CMS Signet makes (`openssl cms -verify -binary -content`);
 *  - Signet verifies a CMS OpenSSL makes (`openssl cms -sign`) with a certificate from the
 *    stack, logged the way gitsign's online mode logs (hashedrekord over the commit ID);
 *  - a signature built exactly as gitsign builds it (structure per gitsign's sign.go and
 *    rekor/oid, encoded with @peculiar/asn1-cms, not Signet's writer) verifies;
 *  - bad input: a transplanted or missing log entry, truncated and non-CMS signatures, a
 *    certificate with no verified time, the timestamp-only mode only when asked for.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  DigestAlgorithmIdentifiers,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { tempStack, stackToken } from '../helpers/stack.ts';
import { parseTrustedRoot, type TrustedRoot } from '../../src/bundle/trusted-root.ts';
import { parseSigningConfig } from '../../src/bundle/signing-config.ts';
import { servicesFromSigningConfig } from '../../src/client/sign/services.ts';
import { keylessSigner } from '../../src/client/sign/signer.ts';
import type { SignContext } from '../../src/client/sign/sign.ts';
import { signGitPayload } from '../../src/client/git/sign.ts';
import { ANY_IDENTITY, verifyGitSignature } from '../../src/client/git/verify.ts';
import { createEntryV1, hashedrekordV001 } from '../../src/client/http/rekor-v1.ts';
import { fetchTimestamp } from '../../src/client/http/tsa.ts';
import { encodeTlogEntryProto } from '../../src/core/rekor/entry-proto.ts';
import { timestampToken } from '../../src/core/rfc3161/token.ts';
import { encodePem } from '../../src/core/encoding/pem.ts';
import { assembleGitSignature, parseGitSignature } from '../../src/core/git/signature.ts';
import { signingAlgorithm } from '../../src/core/cms/signed-data.ts';
import { agentRequest } from '../../src/client/git/agent.ts';
import { gitWorld, must, run } from './helpers.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
let trustedRoot: TrustedRoot;
let ctx: SignContext & { key: ReturnType<typeof generateKeyPairSync> };
let caPem: string;
let issuer: string;
const world = gitWorld();
const policy = { kind: 'identity' as const, identity: ANY_IDENTITY };
const PAYLOAD = Buffer.from(
  'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Dev <dev@signet.local> 1700000000 +0000\ncommitter Dev <dev@signet.local> 1700000000 +0000\n\nsigned\n',
);

before(async () => {
  stack = await tempStack();
  issuer = `${stack.url}/oidc`;
  trustedRoot = parseTrustedRoot(await (await fetch(`${stack.url}/trusted_root.json`)).json());
  const services = servicesFromSigningConfig(
    parseSigningConfig(await (await fetch(`${stack.url}/signing_config.json`)).json()),
    { rekorVersion: 1, keyless: true },
  );
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = await stackToken(stack.url, 'dev@signet.local');
  const signer = await keylessSigner(services.caUrl!, token, {}, key);
  ctx = { signer, services, key };
  const bundle = (await (await fetch(`${stack.url}/fulcio/api/v2/trustBundle`)).json()) as {
    chains: Array<{ certificates: string[] }>;
  };
  caPem = bundle.chains[0]!.certificates.join('');
});

after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000);
  await stack.close();
});

function file(name: string, data: string | Uint8Array): string {
  const f = path.join(world.dir, name);
  fs.writeFileSync(f, data);
  return f;
}

const leafPem = () => ctx.signer.verifierPem;

test('OpenSSL verifies the CMS Signet makes, and refuses it over other content', async () => {
  const r = await signGitPayload(PAYLOAD, ctx);
  // OpenSSL reads the same DER under its usual PEM label.
  const sig = file('signet.pem', r.armored.replace(/SIGNED MESSAGE/g, 'PKCS7'));
  const ca = file('ca.pem', caPem);
  const args = (content: string) => [
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'PEM',
    '-in',
    sig,
    '-content',
    content,
    '-CAfile',
    ca,
    '-purpose',
    'any', // the Fulcio leaf is for code signing, not S/MIME
    '-out',
    '/dev/null',
  ];
  const ok = await run('openssl', args(file('payload', PAYLOAD)), world.dir, world.env);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /Verification successful/);
  const other = await run('openssl', args(file('other', 'tampered')), world.dir, world.env);
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /Verification failure/);
  // And Signet verifies it, with the log entry embedded.
  const v = verifyGitSignature(PAYLOAD, new TextEncoder().encode(r.armored), trustedRoot, policy);
  assert.equal(v.log?.mode, 'embedded');
  assert.deepEqual(v.identity, ['dev@signet.local']);
});

/** A commit object whose gpgsig header holds `armored`, written into `repo`. */
async function commitWith(
  repo: string,
  payload: Buffer,
  armored: string,
  name = 'gpgsig',
): Promise<string> {
  const text = payload.toString('latin1');
  const end = text.indexOf('\n\n');
  const header = `${name} ${armored.trimEnd().split('\n').join('\n ')}\n`;
  const raw = text.slice(0, end + 1) + header + text.slice(end + 1);
  const r = await must(world.git(repo, ['hash-object', '-t', 'commit', '-w', '--stdin'], {}, raw));
  return r.stdout.trim();
}

test('Signet verifies what openssl cms -sign makes with a stack certificate (gitsign online mode)', async () => {
  const repo = world.repo('openssl');
  const tree = (await must(world.git(repo, ['mktree'], {}, ''))).stdout.trim();
  const payload = Buffer.from(
    `tree ${tree}\nauthor Dev <dev@signet.local> 1700000000 +0000\ncommitter Dev <dev@signet.local> 1700000000 +0000\n\nsigned by openssl\n`,
  );
  const keyFile = file(
    'key.pem',
    ctx.key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  );
  const certFile = file('leaf.pem', leafPem());
  const out = path.join(world.dir, 'openssl-sig.pem');
  const s = await run(
    'openssl',
    [
      'cms',
      '-sign',
      '-binary',
      '-md',
      'sha256',
      '-in',
      file('p2', payload),
      '-signer',
      certFile,
    ].concat(['-inkey', keyFile, '-outform', 'PEM', '-out', out]),
    world.dir,
    world.env,
  );
  assert.equal(s.status, 0, s.stderr);
  const armored = fs
    .readFileSync(out, 'utf8')
    .replace(/-----(BEGIN|END) CMS-----/g, '-----$1 SIGNED MESSAGE-----');
  const id = await commitWith(repo, payload, armored);
  const flags = ['--certificate-identity', 'dev@signet.local', '--certificate-oidc-issuer', issuer];
  const server = ['--server', stack.url];

  // Not yet logged: no embedded entry and nothing in the log.
  let v = await world.signet(repo, ['verify-commit', id, ...flags, ...server]);
  assert.equal(v.status, 12);
  assert.match(
    v.stderr,
    /^error: the signature carries no transparency log entry, and the log has none for [0-9a-f]{40} signed with this certificate \(a signature made without one is taken only by signet verify-commit --insecure-ignore-tlog, or by git where signet\.tlog is false\)$/m,
  );

  // gitsign online mode: hashedrekord over SHA-256(commit ID), signed with the same key.
  const sigOverId = nodeSign('sha256', Buffer.from(id), ctx.key.privateKey);
  await createEntryV1(
    `${stack.url}/rekor`,
    hashedrekordV001({
      digest: createHash('sha256').update(id).digest(),
      signature: sigOverId,
      verifierPem: leafPem(),
    }),
  );
  v = await world.signet(repo, ['verify-commit', id, ...flags, ...server]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(
    v.stderr,
    /Verified OK: commit [0-9a-f]{40} signed by dev@signet\.local .*log index \d+ \(online entry\)/,
  );
  v = await world.signet(repo, ['verify-commit', id, ...flags, ...server, '--offline']);
  assert.equal(v.status, 12);
  assert.match(
    v.stderr,
    /^error: the signature carries no transparency log entry \(a signature made without one is taken only by signet verify-commit --insecure-ignore-tlog, or by git where signet\.tlog is false; or it was made in gitsign online mode and the log could not be searched\)$/m,
  );

  // No log at all and no timestamp: the certificate has no verified time, even when asked.
  const noTime = verifyOrError(payload, armored, { allowNoTlog: true });
  assert.match(noTime, /no verified time of signing/);
});

test('gitsign online mode in a SHA-256 repository: the entry is found by the SHA-256 commit ID, by git verify-commit and signet', async () => {
  const repo = world.repo('openssl-sha256');
  fs.rmSync(path.join(repo, '.git'), { recursive: true });
  await must(world.git(repo, ['init', '-q', '-b', 'main', '--object-format=sha256']));
  for (const [k, v] of [
    ['gpg.format', 'x509'],
    ['gpg.x509.program', path.resolve('bin/signet-gitsign')],
    ['signet.server', stack.url],
  ])
    await must(world.git(repo, ['config', k!, v!]));
  const tree = (await must(world.git(repo, ['mktree'], {}, ''))).stdout.trim();
  assert.equal(tree.length, 64);
  const payload = Buffer.from(
    `tree ${tree}\nauthor Dev <dev@signet.local> 1700000000 +0000\ncommitter Dev <dev@signet.local> 1700000000 +0000\n\nonline, SHA-256\n`,
  );
  const out = path.join(world.dir, 'openssl-sig-256.pem');
  const keyFile = file(
    'key256.pem',
    ctx.key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  );
  await must(
    run(
      'openssl',
      ['cms', '-sign', '-binary', '-md', 'sha256', '-in', file('p256', payload)].concat(
        ['-signer', file('leaf256.pem', leafPem()), '-inkey', keyFile],
        ['-outform', 'PEM', '-out', out],
      ),
      world.dir,
      world.env,
    ),
  );
  const armored = fs
    .readFileSync(out, 'utf8')
    .replace(/-----(BEGIN|END) CMS-----/g, '-----$1 SIGNED MESSAGE-----');
  const id = await commitWith(repo, payload, armored, 'gpgsig-sha256');
  assert.equal(id.length, 64);
  const flags = ['--certificate-identity', 'dev@signet.local', '--certificate-oidc-issuer', issuer];
  assert.notEqual((await world.git(repo, ['verify-commit', id])).status, 0, 'not logged yet');
  await createEntryV1(
    `${stack.url}/rekor`,
    hashedrekordV001({
      digest: createHash('sha256').update(id).digest(),
      signature: nodeSign('sha256', Buffer.from(id), ctx.key.privateKey),
      verifierPem: leafPem(),
    }),
  );
  const g = await world.git(repo, ['verify-commit', id]);
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stderr, /signet: logged at index \d+ in .* \(online entry\)/);
  const v = await world.signet(repo, ['verify-commit', id, ...flags]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, new RegExp(`Verified OK: commit ${id} .*\\(online entry\\)`));
});

function verifyOrError(payload: Uint8Array, armored: string, opts = {}): string {
  try {
    verifyGitSignature(payload, new TextEncoder().encode(armored), trustedRoot, policy, opts);
    return 'verified';
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * gitsign's offline signature, built the way gitsign builds it (internal/signature/sign.go,
 * internal/rekor/oid/oid.go, internal/fork/ietf-cms/timestamp.go), with an independent encoder.
 */
async function gitsignSignature(payload: Uint8Array): Promise<string> {
  const der = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');
  const tlv = (tag: number, body: Uint8Array) => {
    const len = body.length < 128 ? [body.length] : [0x81, body.length];
    return Buffer.concat([Buffer.from([tag, ...len]), body]);
  };
  const utc = new Date().toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const values = {
    contentType: der('06 09 2a864886f70d010701'), // id-data
    signingTime: tlv(0x17, Buffer.from(utc)),
    messageDigest: tlv(0x04, createHash('sha256').update(payload).digest()),
  };
  const attrs = [
    new Attribute({ attrType: '1.2.840.113549.1.9.3', attrValues: [toAb(values.contentType)] }),
    new Attribute({ attrType: '1.2.840.113549.1.9.5', attrValues: [toAb(values.signingTime)] }),
    new Attribute({ attrType: '1.2.840.113549.1.9.4', attrValues: [toAb(values.messageDigest)] }),
  ];
  // DER SET OF: elements in the order of their encodings (Go's encoding/asn1 sorts too).
  attrs.sort((a, b) => Buffer.compare(enc(a), enc(b)));
  const signedSet = tlv(0x31, Buffer.concat(attrs.map(enc)));
  const signature = nodeSign('sha256', signedSet, ctx.key.privateKey);
  // Rekor: hashedrekord over sha256(DER(SignedAttrs)) with the certificate (attachRekorLogEntry).
  const entry = await createEntryV1(
    `${stack.url}/rekor`,
    hashedrekordV001({
      digest: createHash('sha256').update(signedSet).digest(),
      signature,
      verifierPem: leafPem(),
    }),
  );
  // oid.ToAttributes: TransparencyLogEntry proto, kind hashedrekord 0.0.1, body cleared.
  const proto = encodeTlogEntryProto({ ...entry, canonicalizedBody: '' });
  // AddTimestamps: RFC 3161 over the signature value, the TimeStampToken as unsigned attribute.
  const tst = timestampToken(await fetchTimestamp(ctx.services.tsaUrls[0]!, signature));
  const cert = AsnConvert.parse(
    ctx.signer.material.$case === 'certificate'
      ? ctx.signer.material.certificateDer
      : new Uint8Array(),
    Certificate,
  );
  const si = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: cert.tbsCertificate.issuer,
        serialNumber: cert.tbsCertificate.serialNumber,
      }),
    }),
    digestAlgorithm: new AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
    signedAttrs: attrs,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }),
    signature: new OctetString(signature),
    unsignedAttrs: [
      new Attribute({ attrType: '1.2.840.113549.1.9.16.2.14', attrValues: [toAb(tst)] }),
      new Attribute({
        attrType: '1.3.6.1.4.1.57264.3.1',
        attrValues: [toAb(tlv2(0x04, proto))],
      }),
    ],
  });
  const sd = new SignedData({
    version: 1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([
      new AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
    ]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: '1.2.840.113549.1.7.1' }),
    certificates: new CertificateSet([new CertificateChoices({ certificate: cert })]),
    signerInfos: new SignerInfos([si]),
  });
  const ci = new ContentInfo({
    contentType: '1.2.840.113549.1.7.2',
    content: AsnConvert.serialize(sd),
  });
  return encodePem('SIGNED MESSAGE', new Uint8Array(AsnConvert.serialize(ci)));
}

const toAb = (b: Uint8Array): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const enc = (a: Attribute): Buffer => Buffer.from(AsnConvert.serialize(a));
/** OCTET STRING with a long-form length (the protobuf is a few kilobytes). */
function tlv2(tag: number, body: Uint8Array): Buffer {
  const n = body.length;
  const len = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

test('a signature built exactly as gitsign builds it verifies, in the library and through git', async () => {
  const armored = await gitsignSignature(PAYLOAD);
  const v = verifyGitSignature(PAYLOAD, new TextEncoder().encode(armored), trustedRoot, policy);
  assert.equal(v.log?.mode, 'embedded');
  assert.deepEqual(v.times.map((t) => t.source).sort(), [
    'timestamp-authority',
    'transparency-log',
  ]);
  const repo = world.repo('gitsign');
  const tree = (await must(world.git(repo, ['mktree'], {}, ''))).stdout.trim();
  const payload = Buffer.from(PAYLOAD.toString().replace(/^tree \S+/, `tree ${tree}`));
  const armored2 = await gitsignSignature(payload);
  const id = await commitWith(repo, payload, armored2);
  const s = await world.signet(repo, [
    'verify-commit',
    id,
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    issuer,
    '--server',
    stack.url,
  ]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /Verified OK: commit [0-9a-f]{40} signed by dev@signet\.local/);
  await must(world.git(repo, ['config', 'gpg.x509.program', path.resolve('bin/signet-gitsign')]));
  await must(world.git(repo, ['config', 'gpg.format', 'x509']));
  await must(world.git(repo, ['config', 'signet.server', stack.url]));
  const g = await world.git(repo, ['verify-commit', id]);
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stderr, /signet: Good signature from dev@signet\.local/);
});

test('a transplanted, missing or malformed log entry and broken signatures fail clearly', async () => {
  const a = parseGitSignature(
    new TextEncoder().encode((await signGitPayload(PAYLOAD, ctx)).armored),
  );
  const other = Buffer.from(PAYLOAD.toString().replace('signed', 'another'));
  const b = parseGitSignature(new TextEncoder().encode((await signGitPayload(other, ctx)).armored));
  const rebuild = (tlogEntry: Uint8Array | undefined) =>
    encodePem(
      'SIGNED MESSAGE',
      assembleGitSignature({
        certificate: a.certificate,
        alg: signingAlgorithm(ctx.key.publicKey),
        signedAttrs: a.signedAttrs,
        signature: a.signer.signature,
        timestampToken: a.timestampTokens[0]!,
        ...(tlogEntry ? { tlogEntry } : {}),
      }),
    );
  // The untouched reassembly verifies: what fails below fails for the entry alone.
  assert.equal(verifyOrError(PAYLOAD, rebuild(a.tlogEntry)), 'verified');
  // Another signature's entry: its proofs cover another body.
  assert.match(
    verifyOrError(PAYLOAD, rebuild(b.tlogEntry)),
    /signed entry timestamp|inclusion|does not verify/i,
  );
  // No entry: refused unless timestamp-only is asked for, which then says so.
  assert.match(verifyOrError(PAYLOAD, rebuild(undefined)), /carries no transparency log entry/);
  const v = verifyGitSignature(
    PAYLOAD,
    new TextEncoder().encode(rebuild(undefined)),
    trustedRoot,
    policy,
    { allowNoTlog: true },
  );
  assert.equal(v.log, undefined);
  assert.deepEqual(
    v.times.map((t) => t.source),
    ['timestamp-authority'],
  );
  // Not protobuf.
  assert.match(
    verifyOrError(PAYLOAD, rebuild(Uint8Array.of(0x0a, 0xff))),
    /embedded transparency log entry is not a TransparencyLogEntry/,
  );
  // Truncated and non-CMS signatures.
  const full = rebuild(a.tlogEntry);
  const lines = full.trimEnd().split('\n');
  const truncated = [...lines.slice(0, 10), lines.at(-1)].join('\n');
  assert.match(
    verifyOrError(PAYLOAD, truncated),
    /^signature: is not a CMS SignedData: .*truncated/,
  );
  assert.match(
    verifyOrError(PAYLOAD, encodePem('SIGNED MESSAGE', randomBytes(64))),
    /^signature: is not a CMS SignedData/,
  );
  assert.match(
    verifyOrError(PAYLOAD, '-----BEGIN PGP SIGNATURE-----\nAAAA\n-----END PGP SIGNATURE-----\n'),
    /expected one "SIGNED MESSAGE" PEM block .* found "PGP SIGNATURE"/,
  );
  // git's program: a garbage signature file is ERRSIG and a failing exit.
  const sigFile = file('garbage.sig', 'not a signature');
  const r = await run(
    path.resolve('bin/signet-gitsign'),
    ['--status-fd=1', '--verify', sigFile, '-'],
    world.dir,
    { ...world.env, SIGNET_SERVER: stack.url },
    PAYLOAD,
  );
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^\[GNUPG:\] NEWSIG\n\[GNUPG:\] ERRSIG /);
  assert.match(r.stderr, /^signet: cannot verify: signature: is not a CMS SignedData/m);
});

test('timestamp-only mode (git setup --no-tlog): refused by default, accepted and marked when asked', async () => {
  const repo = world.repo('private');
  await must(
    world.signet(repo, ['git', 'setup', '--server', stack.url, '--no-tlog', '--no-cache']),
  );
  fs.writeFileSync(path.join(repo, 'f'), 'private\n');
  await must(world.git(repo, ['add', 'f']));
  const token = await stackToken(stack.url, 'dev@signet.local');
  await must(world.git(repo, ['commit', '-q', '-m', 'private'], { SIGSTORE_ID_TOKEN: token }));
  const flags = ['--certificate-identity', 'dev@signet.local', '--certificate-oidc-issuer', issuer];
  let v = await world.signet(repo, ['verify-commit', ...flags, '--offline']);
  assert.equal(v.status, 12);
  assert.match(v.stderr, /^error: the signature carries no transparency log entry/m);
  v = await world.signet(repo, ['verify-commit', ...flags, '--offline', '--insecure-ignore-tlog']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /\(timestamp authority\), NO TRANSPARENCY LOG ENTRY \(timestamp only\)$/m);
  const g = await world.git(repo, ['verify-commit', 'HEAD']);
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stderr, /signet: NO TRANSPARENCY LOG ENTRY: timestamp only, timestamped /);
});
