import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildStatement,
  parseStatement,
  subjectsMatching,
  STATEMENT_V1,
} from '../../../src/core/intoto/index.ts';
import { SignetError } from '../../../src/core/errors.ts';

const te = new TextEncoder();
const D = 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf';

test('a built statement parses back and matches its subject digest exactly', () => {
  const bytes = buildStatement(
    [{ name: 'a.txt', digest: { sha256: D } }],
    'https://slsa.dev/provenance/v1',
    { x: 1 },
  );
  const s = parseStatement(bytes);
  assert.equal(s.type, STATEMENT_V1);
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v1');
  assert.deepEqual(s.predicate, { x: 1 });
  assert.equal(subjectsMatching(s, 'sha256', D).length, 1);
  assert.equal(subjectsMatching(s, 'sha256', D.toUpperCase()).length, 1);
  assert.equal(subjectsMatching(s, 'sha256', D.slice(0, -1) + '0').length, 0);
  assert.equal(subjectsMatching(s, 'sha512', D).length, 0);
});

test('bad statements name the field', () => {
  const field = (v: unknown) => {
    try {
      parseStatement(te.encode(typeof v === 'string' ? v : JSON.stringify(v)));
    } catch (e) {
      assert.ok(e instanceof SignetError);
      return e.field;
    }
    assert.fail('expected failure');
  };
  const good = {
    _type: STATEMENT_V1,
    subject: [{ name: 'a', digest: { sha256: D } }],
    predicateType: 'p',
  };
  assert.equal(field('{'), 'statement');
  assert.equal(field({ ...good, _type: 'x' }), 'statement._type');
  assert.equal(field({ ...good, subject: [] }), 'statement.subject');
  assert.equal(
    field({ ...good, subject: [{ name: 'a', digest: {} }] }),
    'statement.subject[0].digest',
  );
  assert.equal(
    field({ ...good, subject: [{ name: 'a', digest: { sha256: 'zz' } }] }),
    'statement.subject[0].digest.sha256',
  );
  assert.equal(field({ ...good, predicateType: 3 }), 'statement.predicateType');
  assert.throws(() => buildStatement([], 'p', {}));
});

test('subjects and digests are bounded as in sigstore-go: 1,024 subjects, 32 digests a subject', () => {
  const statement = (subject: unknown[]) =>
    te.encode(JSON.stringify({ _type: STATEMENT_V1, subject, predicateType: 'p' }));
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ name: `f${i}`, digest: { sha256: D } }));
  assert.equal(parseStatement(statement(many(1024))).subject.length, 1024);
  assert.throws(
    () => parseStatement(statement(many(1025))),
    (e: unknown) =>
      e instanceof SignetError &&
      e.field === 'statement.subject' &&
      /1025 subjects; at most 1024/.test(e.message),
  );
  const digests = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`alg${i}`, D]));
  assert.equal(
    Object.keys(parseStatement(statement([{ name: 'a', digest: digests(32) }])).subject[0]!.digest)
      .length,
    32,
  );
  assert.throws(
    () => parseStatement(statement([{ name: 'a', digest: digests(33) }])),
    (e: unknown) => e instanceof SignetError && e.field === 'statement.subject[0].digest',
  );
});
