import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { startWitness } from '../../../src/services/witness/server.ts';
import { witnessedLogs } from '../../../src/services/witness/logs.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import { verifyBundle } from '../../../src/client/verify/verifier.ts';
import { parseTrustedRoot } from '../../../src/bundle/trusted-root.ts';
import {
  cosigner,
  formatCosignerKey,
  parseCosignerKey,
  verifyCosignatures,
} from '../../../src/core/note/cosignature.ts';
import { parseNote } from '../../../src/core/note/note.ts';
import { generateKeyPairSync } from 'node:crypto';
import { quiet } from '../context.ts';
import { endlessServer } from '../../helpers/endless-server.ts';
import { KeyRing } from '../../../src/services/keyring.ts';

const artifact = new TextEncoder().encode('witnessed artifact\n');

async function sign(url: string) {
  const ctx = await setupSigning({
    server: url,
    identityToken: await stackToken(url),
    rekorVersion: 2,
    interactive: 'never',
    env: {},
  });
  return signArtifact(artifact, ctx);
}

/**
 * A first start makes a stack's keys and port (its data folder, its trusted root); then a
 * witness configured from that root.
 */
async function stackKeysAndWitness() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-witnessed-'));
  const first = await tempStack({ dataDir });
  const port = Number(new URL(first.url).port);
  const rootFile = path.join(dataDir, 'root.json');
  fs.writeFileSync(rootFile, await (await fetch(`${first.url}/trusted_root.json`)).text());
  await first.close();
  const witness = await startWitness({
    port: 0,
    host: '127.0.0.1',
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-witness-')),
    name: 'witness.test/w1',
    logs: witnessedLogs({ vkeys: [], trustedRootFile: rootFile }),
    log: quiet,
  });
  return { dataDir, port, rootFile, witness };
}

test('a stack with a witness serves cosigned checkpoints; verify requires them; a down witness does not stop the log', async () => {
  const { dataDir, port, rootFile, witness } = await stackKeysAndWitness();
  const { startStack } = await import('../../../src/services/stack.ts');
  const stack = await startStack({
    port,
    host: '127.0.0.1',
    dataDir,
    log: quiet,
    config: {
      rekor: { witnesses: [{ url: witness.url, key: witness.vkey }], witnessTimeoutMs: 1000 },
    },
  });
  const wkey = parseCosignerKey(witness.vkey);
  let witnessUp = true;
  try {
    const root = parseTrustedRoot(JSON.parse(fs.readFileSync(rootFile, 'utf8')));
    const bundle = await sign(stack.url);
    const cp = bundle.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint!;
    assert.equal(verifyCosignatures(cp, [wkey]).length, 1, cp);
    const policy = {
      kind: 'identity' as const,
      identity: {
        subjectAlternativeName: { exact: 'dev@signet.local' },
        issuer: { exact: `${stack.url}/oidc` },
      },
    };
    verifyBundle(bundle, { kind: 'bytes', data: artifact }, root, policy, {
      witnesses: { keys: [wkey], threshold: 1 },
    });
    // Two cosignatures required, one witness: refused.
    const other = cosigner('witness.test/w2', generateKeyPairSync('ed25519').privateKey);
    assert.throws(
      () =>
        verifyBundle(bundle, { kind: 'bytes', data: artifact }, root, policy, {
          witnesses: { keys: [wkey, other], threshold: 2 },
        }),
      { code: 'WITNESS_COSIGNATURES' },
    );
    // Readers get the cosigned checkpoint too.
    const served = await (await fetch(`${stack.url}/rekor/checkpoint`)).text();
    assert.equal(verifyCosignatures(served, [wkey]).length, 1, served);

    // The witness goes down: the log keeps taking entries, without cosignatures.
    await witness.close();
    witnessUp = false;
    const t0 = Date.now();
    const unwitnessed = await sign(stack.url);
    assert.ok(Date.now() - t0 < 15_000);
    const cp2 = unwitnessed.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint!;
    assert.equal(parseNote(cp2).signatures.length, 1);
    verifyBundle(unwitnessed, { kind: 'bytes', data: artifact }, root, policy);
    assert.throws(
      () =>
        verifyBundle(unwitnessed, { kind: 'bytes', data: artifact }, root, policy, {
          witnesses: { keys: [wkey], threshold: 1 },
        }),
      { code: 'WITNESS_COSIGNATURES', message: /it has 0/ },
    );
  } finally {
    await stack.close();
    if (witnessUp) await witness.close();
  }
});

test('Rekor v1 checkpoints are witnessed too, in every shard: signedTreeHead and v1 entries carry the cosignature', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-witnessed-v1-'));
  // A first shard with an entry, then a rotation: shard 1 is frozen, shard 2 takes writes.
  const first = await tempStack({ dataDir });
  const port = Number(new URL(first.url).port);
  await sign(first.url);
  await first.close();
  KeyRing.rotate(dataDir, 'rekor');
  const { startStack } = await import('../../../src/services/stack.ts');
  const plain = await startStack({ port, host: '127.0.0.1', dataDir, log: quiet });
  const rootFile = path.join(dataDir, 'root.json');
  fs.writeFileSync(rootFile, await (await fetch(`${plain.url}/trusted_root.json`)).text());
  await plain.close();
  const wDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-witness-v1-'));
  const logs = witnessedLogs({ vkeys: [], trustedRootFile: rootFile });
  const witness = await startWitness({
    port: 0,
    host: '127.0.0.1',
    dataDir: wDir,
    name: 'witness.test/w1',
    logs,
    log: quiet,
  });
  const stack = await startStack({
    port,
    host: '127.0.0.1',
    dataDir,
    log: quiet,
    config: {
      rekor: { witnesses: [{ url: witness.url, key: witness.vkey }], witnessTimeoutMs: 2000 },
    },
  });
  const wkey = parseCosignerKey(witness.vkey);
  try {
    const root = parseTrustedRoot(JSON.parse(fs.readFileSync(rootFile, 'utf8')));
    assert.equal(root.tlogs.length, 2);
    const ctx = await setupSigning({
      server: stack.url,
      identityToken: await stackToken(stack.url),
      rekorVersion: 1,
      interactive: 'never',
      env: {},
    });
    const bundle = await signArtifact(artifact, ctx);
    const cp = bundle.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint!;
    assert.match(cp, /^127\.0\.0\.1:\d+ - \d+\n/, 'a Rekor v1 checkpoint');
    assert.equal(verifyCosignatures(cp, [wkey]).length, 1, cp);
    const policy = {
      kind: 'identity' as const,
      identity: {
        subjectAlternativeName: { exact: 'dev@signet.local' },
        issuer: { exact: `${stack.url}/oidc` },
      },
    };
    verifyBundle(bundle, { kind: 'bytes', data: artifact }, root, policy, {
      witnesses: { keys: [wkey], threshold: 1 },
    });

    // /api/v1/log: the active and the frozen shard's signed tree heads, both cosigned (a
    // round starts on the first read; the frozen one is cosigned once and then served so).
    const info = async () =>
      (await (await fetch(`${stack.url}/rekor/api/v1/log`)).json()) as {
        signedTreeHead: string;
        treeSize: number;
        inactiveShards: Array<{ signedTreeHead: string; treeSize: number }>;
      };
    let i = await info();
    for (let tries = 0; tries < 50; tries++) {
      if (verifyCosignatures(i.inactiveShards[0]!.signedTreeHead, [wkey]).length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
      i = await info();
    }
    assert.equal(verifyCosignatures(i.signedTreeHead, [wkey]).length, 1, i.signedTreeHead);
    const frozen = i.inactiveShards[0]!;
    assert.equal(frozen.treeSize, 1);
    assert.equal(
      verifyCosignatures(frozen.signedTreeHead, [wkey]).length,
      1,
      frozen.signedTreeHead,
    );
    // The frozen shard's C2SP view too.
    let tiles = '';
    for (let tries = 0; tries < 50; tries++) {
      tiles = await (await fetch(`${stack.url}/rekor/shards/1/checkpoint`)).text();
      if (verifyCosignatures(tiles, [wkey]).length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(verifyCosignatures(tiles, [wkey]).length, 1, tiles);
    // The witness keeps all four logs (two shards, two views each) apart.
    const v1Origins = logs.map((l) => l.origin).filter((o) => / - \d+$/.test(o));
    assert.equal(v1Origins.length, 2);
    for (const o of v1Origins) assert.ok(witness.witness.latest(o), `the witness cosigned ${o}`);
  } finally {
    await stack.close();
    await witness.close();
  }
});

/**
 * A stack whose log asks the witness at `url` (a key of its own, which the witness never
 * signs with), and the warnings its log gave.
 */
/** A quiet log that keeps its warnings, each as "message: error". */
function warningLog() {
  const warnings: string[] = [];
  const log = {
    ...quiet,
    warn: (m: string, f?: Record<string, unknown>) =>
      warnings.push(`${m}: ${String(f?.['error'])}`),
  };
  return { log, warnings };
}

async function stackWithWitness(name: string, url: string, rekor: Record<string, unknown> = {}) {
  const { log, warnings } = warningLog();
  const key = formatCosignerKey(
    cosigner(`witness.test/${name}`, generateKeyPairSync('ed25519').privateKey),
  );
  const { startStack } = await import('../../../src/services/stack.ts');
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), `signet-${name}-witness-`)),
    log,
    config: { rekor: { witnesses: [{ url, key }], ...rekor } },
  });
  return { stack, warnings };
}

test('a witness that answers without end is cut off at the limit, and the log goes on', async () => {
  // A "witness" that streams its answer forever: the log must not buffer it.
  const endless = await endlessServer('text/plain');
  const { stack, warnings } = await stackWithWitness('endless', endless.url, {
    witnessTimeoutMs: 10_000,
  });
  try {
    const t0 = Date.now();
    const bundle = await sign(stack.url);
    // Refused at the limit, long before the 10 s deadline.
    assert.ok(Date.now() - t0 < 5_000, `${Date.now() - t0} ms`);
    const cp = bundle.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint!;
    assert.equal(parseNote(cp).signatures.length, 1, 'no cosignature');
    assert.ok(
      warnings.some((w) =>
        /^witness gave no cosignature: cannot reach the witness at .*\/add-checkpoint: response is too large/.test(
          w,
        ),
      ),
      warnings.join('\n'),
    );
    assert.ok(endless.streamed() < 16 * 1024 * 1024, `${endless.streamed()} bytes streamed`);
  } finally {
    await stack.close();
    endless.close();
  }
});

test('a witness that redirects is not followed: the log posts only where it was told', async () => {
  const http = await import('node:http');
  const aimed: string[] = [];
  const elsewhere = http.createServer((req, res) => {
    aimed.push(req.url!);
    res.end();
  });
  const redirecting = http.createServer((_req, res) => {
    res.writeHead(307, { location: `http://127.0.0.1:${port(elsewhere)}/add-checkpoint` });
    res.end();
  });
  const port = (s: import('node:http').Server) =>
    (s.address() as import('node:net').AddressInfo).port;
  for (const s of [elsewhere, redirecting])
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { stack, warnings } = await stackWithWitness(
    'redirecting',
    `http://127.0.0.1:${port(redirecting)}`,
  );
  try {
    const bundle = await sign(stack.url);
    const cp = bundle.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint!;
    assert.equal(parseNote(cp).signatures.length, 1, 'no cosignature');
    assert.ok(
      warnings.some((w) =>
        /^witness gave no cosignature: cannot reach the witness at .*\/add-checkpoint: unexpected redirect/.test(
          w,
        ),
      ),
      warnings.join('\n'),
    );
    assert.deepEqual(aimed, []);
  } finally {
    await stack.close();
    for (const s of [elsewhere, redirecting]) {
      s.closeAllConnections();
      s.close();
    }
  }
});

test('a stack whose data is older than what its witness cosigned (a restored backup) refuses to start', async () => {
  const { dataDir, port, witness } = await stackKeysAndWitness();
  const { startStack } = await import('../../../src/services/stack.ts');
  const start = (dir: string) =>
    startStack({
      port,
      host: '127.0.0.1',
      dataDir: dir,
      log: quiet,
      config: {
        rekor: { witnesses: [{ url: witness.url, key: witness.vkey }], witnessTimeoutMs: 2000 },
      },
    });
  const older = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-older-'));
  try {
    let stack = await start(dataDir);
    await sign(stack.url);
    await stack.close();
    fs.cpSync(dataDir, older, { recursive: true }); // the backup
    stack = await start(dataDir);
    await sign(stack.url); // published after the backup, and cosigned
    await stack.close();

    await assert.rejects(start(older), {
      code: 'WITNESS_AHEAD',
      message:
        /the witness at .* has cosigned \d+ entries, but the data holds \d+: it is older than what was published/,
    });
    // The data holding every published entry starts as before.
    stack = await start(dataDir);
    await stack.close();
  } finally {
    await witness.close();
  }
});

test('a witness that signs under another name than the one configured: the warning says what it signed as', async () => {
  const { dataDir, port, witness } = await stackKeysAndWitness();
  const { log, warnings } = warningLog();
  // The operator's configuration names witness.test/w2; the witness signs as witness.test/w1.
  const configured = formatCosignerKey(
    cosigner('witness.test/w2', generateKeyPairSync('ed25519').privateKey),
  );
  const { startStack } = await import('../../../src/services/stack.ts');
  const stack = await startStack({
    port,
    host: '127.0.0.1',
    dataDir,
    log,
    config: { rekor: { witnesses: [{ url: witness.url, key: configured }] } },
  });
  try {
    await sign(stack.url);
    const id = (vkey: string) => {
      const k = parseCosignerKey(vkey);
      return `${k.name}+${k.keyId.toString(16).padStart(8, '0')}`;
    };
    assert.ok(
      warnings.some((w) =>
        w.includes(
          `the answer holds no cosignature by its key ${id(configured)} (it is signed as ${id(witness.vkey)})`,
        ),
      ),
      warnings.join('\n'),
    );
  } finally {
    await stack.close();
    await witness.close();
  }
});
