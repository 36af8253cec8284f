/**
 * A log that misbehaves: a real stack behind a loopback proxy that changes what the monitor
 * reads (the checkpoint's signature, a tile's size, a tile's hashes, an entry's bytes). Each is
 * an alert naming the problem; the monitor keeps going and its state stays at what it verified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import { readMonitorConfig } from '../../../src/client/monitor/setup.ts';
import { Monitor } from '../../../src/client/monitor/monitor.ts';
import { TilesSource } from '../../../src/client/monitor/sources.ts';
import { parseTrustedRoot } from '../../../src/bundle/trusted-root.ts';
import type { Alert, LogAlert } from '../../../src/client/monitor/alerts.ts';

type Tamper = (path: string, body: Buffer) => Buffer | undefined;

test('a misbehaving log: bad signature, malformed checkpoint, wrong-size tile, changed hashes and entries, an old checkpoint', async () => {
  const stack = await tempStack();
  const target = new URL(stack.url);
  let tamper: Tamper = () => undefined;
  // The proxy listens first: the trusted root must name the proxy's URL as the log's.
  const proxy = http.createServer((req, res) => {
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          let body: Buffer = Buffer.concat(chunks);
          const changed = tamper(req.url ?? '', body);
          if (changed) body = changed;
          const headers = { ...r.headers, 'content-length': String(body.length) };
          res.writeHead(r.statusCode ?? 502, headers).end(body);
        });
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-hostile-'));
    const ctx = await setupSigning({
      server: stack.url,
      identityToken: await stackToken(stack.url),
      rekorVersion: 2,
      interactive: 'never',
      env: {},
    });
    for (let i = 0; i < 3; i++) await signArtifact(new TextEncoder().encode(`x${i}`), ctx);
    // The trusted root names the log (its origin and key); the bytes come through the proxy.
    const root = JSON.parse(await (await fetch(`${stack.url}/trusted_root.json`)).text()) as {
      tlogs: Array<{ baseUrl: string }>;
    };
    const configFile = path.join(dir, 'watch.yaml');
    fs.writeFileSync(configFile, 'startIndex: 0\nmonitoredValues:\n  subjects: [nobody]\n');
    const stateFile = path.join(dir, 'state.json');
    // The monitor reads the log through the proxy (its identity still comes from the root).
    const proxied = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const log = parseTrustedRoot(root).tlogs[0]!;
    const readFrom = `${proxied}${new URL(stack.url).pathname.replace(/\/$/, '')}/rekor/shards/1`;
    const config = readMonitorConfig(configFile);
    const pass = async () => {
      const lines: Alert[] = [];
      const m = new Monitor({
        sources: [new TilesSource(log, {}, readFrom)],
        config,
        stateFile,
        print: (l) => lines.push(JSON.parse(l) as Alert),
        report: () => {},
      });
      return { r: await m.pass(), alerts: lines as LogAlert[] };
    };
    const state = () => {
      const key = `logid:${Buffer.from(log.logId).toString('hex')}`;
      const s = JSON.parse(fs.readFileSync(stateFile, 'utf8')).logs[key] as Record<string, unknown>;
      delete s.problem;
      return s;
    };
    try {
      // Honest first: everything verifies and is read.
      const ok = await pass();
      assert.equal(ok.r.problems, 0);
      assert.equal(state().position, state().size);
      const before = state();
      const oldCheckpoint = await (await fetch(`${readFrom}/checkpoint`)).text();
      for (let i = 0; i < 2; i++) await signArtifact(new TextEncoder().encode(`y${i}`), ctx);

      // 1. A checkpoint whose signature does not verify.
      tamper = (p, b) => {
        if (!p.endsWith('/checkpoint')) return undefined;
        const t = b.toString();
        const i = t.lastIndexOf(' ') + 10;
        return Buffer.from(t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1));
      };
      let r = await pass();
      assert.equal(r.alerts[0]?.problem, 'bad-signature', JSON.stringify(r.alerts));
      assert.deepEqual(state(), before);
      // 2. A malformed note.
      tamper = (p) => (p.endsWith('/checkpoint') ? Buffer.from('not a checkpoint\n') : undefined);
      r = await pass();
      assert.equal(r.alerts[0]?.problem, 'bad-signature');
      assert.match(r.alerts[0]!.message, /blank line|malformed|not signed/);
      assert.deepEqual(state(), before);
      // 3. A hash tile of the wrong size.
      tamper = (p, b) => (/\/tile\/0\//.test(p) ? Buffer.concat([b, Buffer.alloc(32)]) : undefined);
      r = await pass();
      assert.equal(r.alerts[0]?.problem, 'bad-tile', JSON.stringify(r.alerts));
      assert.match(r.alerts[0]!.message, /hashes; \d+ were asked for/);
      assert.deepEqual(state(), before);
      // 4. A hash tile with a changed hash: the computed proof does not verify.
      tamper = (p, b) => {
        if (!/\/tile\/0\//.test(p)) return undefined;
        const c = Buffer.from(b);
        c[0]! ^= 1;
        return c;
      };
      r = await pass();
      assert.equal(r.alerts[0]?.problem, 'inconsistent', JSON.stringify(r.alerts));
      assert.deepEqual(state(), before);
      // 5. An entry bundle whose entries were changed (same sizes).
      tamper = (p, b) => {
        if (!/\/tile\/entries\//.test(p)) return undefined;
        const c = Buffer.from(b);
        c[c.length - 5]! ^= 1;
        return c;
      };
      r = await pass();
      assert.equal(r.alerts[0]?.problem, 'entries-do-not-match', JSON.stringify(r.alerts));
      assert.equal(state().position, before.position, 'the position stays where it was verified');
      // 6. The honest log again: the monitor continues and catches up.
      tamper = () => undefined;
      r = await pass();
      assert.equal(r.r.problems, 0);
      assert.equal(r.r.errors, 0);
      assert.equal(state().position, (before.position as number) + 2);
      // 7. An old checkpoint (a validly signed smaller tree): the log shrank. Alerted, and the
      // state keeps the larger verified tree.
      const verified = state();
      tamper = (p) => (p.endsWith('/checkpoint') ? Buffer.from(oldCheckpoint) : undefined);
      r = await pass();
      assert.equal(r.alerts[0]?.problem, 'shrinking-tree', JSON.stringify(r.alerts));
      assert.deepEqual(state(), verified);
    } finally {
      proxy.closeAllConnections();
    }
  } finally {
    proxy.close();
    await stack.close();
  }
});
