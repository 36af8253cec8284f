import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  dsseV1,
  dsseV2,
  ecSigner,
  hashedRekordV1,
  hashedRekordV2,
  intotoV2,
  statement,
} from './fixtures.ts';
import { startRekor, type RekorServer } from './harness.ts';
import { assertErrorShape } from '../../helpers/error-shape.ts';

/**
 * Every field of real requests replaced, removed or joined by hostile values: each answer is a
 * 4xx JSON error with a message (or, for a change that keeps the entry valid, 201) — never a
 * 5xx — and the server keeps serving.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(v: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function setAt(root: Json, path: Array<string | number>, value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let cur = copy as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy as Json;
}

const HOSTILE: Array<Json | undefined> = [
  undefined, // removed
  null,
  0,
  -1,
  1e308,
  true,
  '',
  ' ',
  'not base64 !!',
  '\u0000\uffff',
  'A'.repeat(70_000),
  [],
  [null],
  {},
  { a: 1 },
];

describe('hostile requests', () => {
  let s: RekorServer;
  before(async () => {
    s = await startRekor({ config: { verifyWorkers: 0 } });
  });
  after(async () => {
    await s.close();
  });

  const signer = ecSigner();
  const payload = statement('9'.repeat(64));
  const requests: Array<{ name: string; path: string; body: Json }> = [
    {
      name: 'v1 hashedrekord',
      path: '/api/v1/log/entries',
      body: hashedRekordV1(signer, Buffer.from('h')) as Json,
    },
    { name: 'v1 dsse', path: '/api/v1/log/entries', body: dsseV1(signer, payload) as Json },
    { name: 'v1 intoto', path: '/api/v1/log/entries', body: intotoV2(signer, payload) as Json },
    {
      name: 'v2 hashedrekord',
      path: '/api/v2/log/entries',
      body: hashedRekordV2(signer, Buffer.from('h')) as unknown as Json,
    },
    {
      name: 'v2 dsse',
      path: '/api/v2/log/entries',
      body: dsseV2(signer, payload) as unknown as Json,
    },
  ];

  for (const r of requests) {
    it(`${r.name}: every field mutated, never a 5xx`, async () => {
      let tried = 0;
      let refused = 0;
      for (const p of paths(r.body)) {
        for (const h of HOSTILE) {
          if (p.length === 0 && h === undefined) continue;
          const body = setAt(r.body, p, h);
          const res = await fetch(`${s.rekor}${r.path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          tried++;
          const text = await res.text();
          assert.ok(
            res.status < 500,
            `${r.name} ${p.join('.')} = ${JSON.stringify(h)?.slice(0, 40)}: ${res.status} ${text}`,
          );
          if (res.status >= 400) {
            refused++;
            const err = JSON.parse(text) as { code: number; message: string };
            assertErrorShape(r.name, `/rekor${r.path}`, res.status, err);
            assert.ok(err.message.length > 0);
          }
        }
      }
      assert.ok(tried > 50 && refused > tried * 0.8, `${refused}/${tried} refused`);
      // still serving
      const ok = await fetch(`${s.rekor}/api/v1/log/entries`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hashedRekordV1(ecSigner(), Buffer.from(`after ${r.name}`))),
      });
      assert.equal(ok.status, 201);
    });
  }
});
