// The JSON logger: info lines (the access log) are written once per event-loop turn, in order,
// warnings and errors at once (after what is pending), and nothing is lost when the process exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { jsonLogger } from '../../src/services/logger.ts';

function sink(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString());
      cb();
    },
  });
  return { stream, writes };
}

const turn = () => new Promise((r) => setImmediate(r));
const parse = (writes: string[]) =>
  writes
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('info lines of one turn are written together after it, as one JSON object per line', async () => {
  const { stream, writes } = sink();
  const log = jsonLogger(stream);
  log.info('request', { route: '/a', status: 201 });
  log.info('request', { route: '/b', status: 409 });
  assert.equal(writes.length, 0, 'nothing written within the turn');
  await turn();
  assert.equal(writes.length, 1, 'one write for the turn');
  const lines = parse(writes);
  assert.deepEqual(
    lines.map((l) => [l['level'], l['msg'], l['route'], l['status']]),
    [
      ['info', 'request', '/a', 201],
      ['info', 'request', '/b', 409],
    ],
  );
  assert.match(String(lines[0]!['time']), /^\d{4}-\d\d-\d\dT/);
  log.info('later');
  await turn();
  assert.equal(writes.length, 2);
  assert.equal(parse(writes)[2]!['msg'], 'later');
});

test('a warning or an error is written at once, after the info lines before it', () => {
  const { stream, writes } = sink();
  const log = jsonLogger(stream);
  log.info('first');
  log.warn('second', { why: 'x' });
  assert.deepEqual(
    parse(writes).map((l) => [l['level'], l['msg']]),
    [
      ['info', 'first'],
      ['warn', 'second'],
    ],
  );
  log.error('third');
  assert.equal(parse(writes)[2]!['level'], 'error');
});

test('quiet drops info lines only', async () => {
  const { stream, writes } = sink();
  const log = jsonLogger(stream, true);
  log.info('dropped');
  log.error('kept');
  await turn();
  assert.deepEqual(
    parse(writes).map((l) => l['msg']),
    ['kept'],
  );
});

test('a full buffer is written without waiting for the turn', () => {
  const { stream, writes } = sink();
  const log = jsonLogger(stream);
  const filler = 'x'.repeat(1000);
  for (let i = 0; i < 100; i++) log.info('request', { filler });
  assert.ok(writes.length >= 1, 'written before the turn ended');
  assert.ok(
    writes.every((w) => w.endsWith('\n')),
    'only whole lines',
  );
});

test('pending info lines are written when the process exits', () => {
  const url = new URL('../../src/services/logger.ts', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { jsonLogger } = await import(${JSON.stringify(url)}); const log = jsonLogger(); log.info('one'); log.info('two'); process.exit(0);`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const msgs = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.deepEqual(msgs, ['one', 'two']);
});

test('warnings and errors are one JSON line each, with what does not show as itself escaped', () => {
  const { stream, writes } = sink();
  const log = jsonLogger(stream);
  const hostile = 'bad \u202egnp.exe\u2028next \u009b31m';
  log.error('internal error', { message: hostile });
  log.warn(hostile);
  assert.equal(writes.length, 2);
  for (const w of writes) {
    assert.match(w, /^[^\n]*\n$/);
    assert.doesNotMatch(w, /[\u0080-\u009f\u2028\u202e]/);
  }
  const [error, warn] = parse(writes);
  assert.equal(error!['message'], hostile); // the same value once parsed
  assert.equal(warn!['msg'], hostile);
});
