// Error messages quote untrusted text (a registry's media type, a JSON field name, a token's
// claim). Whatever that text holds, the message stays one line of printable characters, so a
// terminal shows it as it is instead of acting on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSystemError, invalid, SignetError } from '../../src/core/errors.ts';
import { printable, printableLines } from '../../src/core/encoding/printable.ts';
import { parseManifest } from '../../src/core/oci/manifest.ts';
import { parseProposedEntryV1 } from '../../src/core/rekor/v1.ts';
import { errorLine } from '../../src/cli/errors.ts';

/** Any character a terminal acts on or that reorders text (what printable() escapes). */
const UNSAFE = /(?! )[\p{Cc}\p{Default_Ignorable_Code_Point}\p{Z}]/u;

test('printable escapes controls, separators and invisible characters, and nothing else', () => {
  assert.equal(
    printable('a\nb\r\t\u0000\u001b[2J\u007f\u0085'),
    'a\\u000ab\\u000d\\u0009\\u0000\\u001b[2J\\u007f\\u0085',
  );
  assert.equal(printable('x\u2028y\u2029z\u00a0'), 'x\\u2028y\\u2029z\\u00a0');
  // bidi overrides, isolates and marks; zero-width space and joiner; a tag character (U+E0041,
  // above U+FFFF: its surrogate pair, as JSON writes it)
  assert.equal(
    printable('\u202eevil\u202c \u2066i\u2069 \u200f\u061c \u200b\u200d \u{e0041}'),
    '\\u202eevil\\u202c \\u2066i\\u2069 \\u200f\\u061c \\u200b\\u200d \\udb40\\udc41',
  );
  assert.deepEqual(JSON.parse(`"${printable('a\u{e0041}\u0085')}"`), 'a\u{e0041}\u0085');
  const plain = 'plain text: — é 漢字 🙂 "quoted" \\u001b stays as typed';
  assert.equal(printable(plain), plain);
});

test('printableLines keeps the lines of a report and escapes within each', () => {
  assert.equal(printableLines('a\u001b[1m\nb\r\n'), 'a\\u001b[1m\nb\\u000d\n');
});

test('a SignetError message is printable whatever its field and message quote', () => {
  const e = invalid('spec.\u001b[31mkind', 'kind "x\r\nVerified OK" is not supported');
  assert.doesNotMatch(e.message, UNSAFE);
  assert.equal(
    e.message,
    'spec.\\u001b[31mkind: kind "x\\u000d\\u000aVerified OK" is not supported',
  );
  // the field as given is kept for callers that match on it
  assert.equal(e.field, 'spec.\u001b[31mkind');
  const plain = new SignetError(
    'verification',
    'SIGNATURE_INVALID',
    'the signature — does not verify',
  );
  assert.equal(plain.message, 'the signature — does not verify');
});

test('parsers that quote a hostile value give a printable one-line error', () => {
  const mediaType = 'application/vnd.oci.image.manifest.v1+json\u001b[2K\rOK';
  assert.throws(
    () =>
      parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType })), undefined, 'm'),
    (e: unknown) =>
      e instanceof SignetError &&
      !UNSAFE.test(e.message) &&
      e.message.includes('manifest.v1+json\\u001b[2K\\u000dOK'),
  );
  assert.throws(
    () => parseProposedEntryV1({ apiVersion: '0.0.1', kind: 'hashedrekord\n\u0007', spec: {} }),
    (e: unknown) =>
      e instanceof SignetError &&
      !UNSAFE.test(e.message) &&
      e.message.includes('hashedrekord\\u000a\\u0007'),
  );
});

test('the CLI error line of any error is one printable line', () => {
  assert.equal(
    errorLine(new Error('the server said:\n  \u001b]0;owned\u0007 bye')),
    'the server said: \\u001b]0;owned\\u0007 bye',
  );
  assert.equal(errorLine(invalid('f', 'x\ny')), 'f: x\\u000ay');
});

test("a TLS handshake failure is named without OpenSSL's text", () => {
  // As Node reports a server that refuses the client's TLS version (the plain-HTTP case runs
  // against a real server: test/client/http/errors.test.ts).
  const e = Object.assign(
    new Error(
      'write EPROTO 40E7:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:916:SSL alert number 70\n',
    ),
    { code: 'EPROTO' },
  );
  assert.equal(
    describeSystemError(e, 'https://x.example'),
    'the TLS handshake with https://x.example failed (tlsv1 alert protocol version)',
  );
});
