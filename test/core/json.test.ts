import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonText } from '../../src/core/json.ts';
import { SignetError } from '../../src/core/errors.ts';

const dup = (text: string): string | undefined => {
  try {
    parseJsonText(text, 'doc');
    return undefined;
  } catch (e) {
    assert.ok(e instanceof SignetError);
    return /has the key "(.*)" twice in one object/.exec(e.message)?.[1];
  }
};

test('a key twice in one object is refused; strings with escapes never end early', () => {
  assert.equal(dup('{"a":1,"a":2}'), 'a');
  assert.equal(dup('{"o":{"a":1,"b":[{"a":1}],"a":2}}'), 'a');
  // escaped keys compare by their value
  assert.equal(dup('{"a\\u0062":1,"ab":2}'), 'ab');
  // a string ending in an escaped backslash ends at the next quote; an escaped quote does not end it
  assert.equal(dup('{"a":"x\\\\","a":1}'), 'a');
  assert.equal(dup('{"x":"\\\\\\"","x":0}'), 'x');
  assert.equal(dup('{"a":"\\"a\\":1,","b":{"a":1}}'), undefined);
  assert.equal(dup('{"a":"\\",\\"a\\":1","b":2}'), undefined);
  // the same key in sibling objects, or as a value, is fine
  assert.equal(dup('[{"a":1},{"a":1}]'), undefined);
  assert.equal(dup('{"a":"a","b":"a"}'), undefined);
  // the earlier value of a repeated key may hold keys of its own, and keys may be reordered
  assert.equal(dup('{"a":{"x":1,"y":{"z":2}},"b":[{"c":1}],"a":3}'), 'a');
  assert.equal(dup('{"b":{"k":1},"1":{"k":2},"0":1,"1":2}'), '1');
  assert.equal(dup('{"__proto__":1,"__proto__":2}'), '__proto__');
  assert.equal(dup('{"b":{"k":1},"1":{"k":2},"0":1,"x:y":"a:b"}'), undefined);
  const long = 'QUJD'.repeat(5000);
  assert.equal(dup(`{"cert":"${long}","sig":"${long}","cert":"x"}`), 'cert');
});
