/**
 * sigstore-conformance offline verification cases (test/fixtures/conformance): all 70 cases, each
 * with the artifact as a path and as a sha256 digest (140 runs), must agree with the expected
 * outcome. The runs go in-process through the same function the CLI command calls; a sample
 * also goes through the real `bin/signet verify-bundle` process. sigstore-js (the independent
 * oracle) runs the same cases so the test records where it disagrees and Signet does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, Verifier, toSignedEntity } from '@sigstore/verify';
import { bundleFromJSON } from '@sigstore/bundle';
import { verifyFromFlags } from '../src/client/verify/setup.ts';
import { SignetError } from '../src/core/errors.ts';

const C = path.resolve('test/fixtures/conformance');
interface Case {
  case: string;
  expect: 'pass' | 'fail';
  bundle: string;
  artifact: string;
  artifact_digest: string;
  trusted_root: string;
  key: string | null;
  identity: string | null;
  issuer: string | null;
}
const cases = (JSON.parse(fs.readFileSync(path.join(C, 'cases.json'), 'utf8')) as { cases: Case[] })
  .cases;
const p = (f: string) => path.join(C, f);

function flagsOf(c: Case) {
  return {
    bundle: p(c.bundle),
    trustedRoot: p(c.trusted_root),
    ...(c.key
      ? { key: p(c.key) }
      : { certificateIdentity: c.identity!, certificateOidcIssuer: c.issuer! }),
  };
}

test('all 70 conformance cases, by path and by digest, agree with the expected outcome (140 runs)', async () => {
  assert.equal(cases.length, 70);
  const wrong: string[] = [];
  let runs = 0;
  for (const c of cases)
    for (const mode of ['path', 'digest'] as const) {
      runs++;
      let got: 'pass' | 'fail' = 'pass';
      let why = '';
      try {
        await verifyFromFlags(mode === 'path' ? p(c.artifact) : c.artifact_digest, flagsOf(c));
      } catch (e) {
        // Every failure must be a clear SignetError, never a crash.
        assert.ok(e instanceof SignetError, `${c.case} [${mode}] threw ${String(e)}`);
        got = 'fail';
        why = e.message;
      }
      if (got !== c.expect)
        wrong.push(`${c.case} [${mode}] expected ${c.expect}, got ${got}: ${why}`);
    }
  assert.equal(runs, 140);
  assert.deepEqual(wrong, []);
});

test('failures name the check that failed', async () => {
  const reason = async (name: string) => {
    const c = cases.find((x) => x.case === name)!;
    try {
      await verifyFromFlags(p(c.artifact), flagsOf(c));
    } catch (e) {
      return (e as SignetError).code;
    }
    return 'passed';
  };
  assert.equal(await reason('signature-mismatch_fail'), 'SIGNATURE');
  assert.equal(await reason('message-digest-mismatch_fail'), 'MESSAGE_DIGEST_MISMATCH');
  assert.equal(await reason('set-invalid-signature_fail'), 'TLOG_SET');
  assert.equal(await reason('inclusion-proof-corrupted-hash_fail'), 'TLOG_INCLUSION_PROOF');
  assert.equal(await reason('invalid-checkpoint-signature_fail'), 'TLOG_CHECKPOINT');
  assert.equal(await reason('checkpoint-bad-keyhint_fail'), 'TLOG_CHECKPOINT');
  assert.equal(await reason('wrong-hashedrekord-entry_fail'), 'TLOG_BODY_MISMATCH');
  // a staging bundle: neither its CA nor its log is in the public-good trusted root
  assert.equal(await reason('bundle-from-wrong-instance_fail'), 'OTHER_DEPLOYMENT');
  assert.equal(await reason('invalid-ct-key_fail'), 'SCT');
  assert.equal(await reason('integrated-time-in-future_fail'), 'CERTIFICATE_EXPIRED');
  assert.equal(await reason('rekor2-no-timestamp_fail'), 'NO_VERIFIED_TIME');
  assert.equal(await reason('rekor2-timestamp-payload-mismatch_fail'), 'TIMESTAMP_IMPRINT');
  assert.equal(await reason('bundle-with-root-cert_fail'), 'CERTIFICATE_CHAIN');
  assert.equal(await reason('managed-key-no-key_fail'), 'NO_CERTIFICATE');
});

test('a sample of cases through the real bin/signet verify-bundle process', () => {
  const sample = [
    ['happy-path-v0.3', 'path'],
    ['rekor2-happy-path', 'digest'],
    ['managed-key-happy-path', 'digest'],
    ['bundle-malformed-json_fail', 'path'],
    ['checkpoint-wrong-roothash_fail', 'digest'],
    ['trust-root-tlog-missing-validity-start_fail', 'path'],
  ] as const;
  for (const [name, mode] of sample) {
    const c = cases.find((x) => x.case === name)!;
    const f = flagsOf(c);
    const args = ['verify-bundle', '--bundle', f.bundle, '--trusted-root', f.trustedRoot];
    if (c.key) args.push('--key', p(c.key));
    else args.push('--certificate-identity', c.identity!, '--certificate-oidc-issuer', c.issuer!);
    args.push(mode === 'path' ? p(c.artifact) : c.artifact_digest);
    const r = spawnSync(path.resolve('bin/signet'), args, { encoding: 'utf8' });
    assert.equal(r.status === 0 ? 'pass' : 'fail', c.expect, `${name} [${mode}]: ${r.stderr}`);
    if (c.expect === 'fail') {
      // one clear line, no stack trace
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^error: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } else assert.match(r.stderr, /Verified OK/);
  }
});

/** sigstore-js's low-level API (clients.md §2.2), as its own conformance adapter uses it. */
function oracle(c: Case): 'pass' | 'fail' {
  try {
    const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(p(c.trusted_root), 'utf8')));
    let keys;
    if (c.key) {
      const key = crypto.createPublicKey(fs.readFileSync(p(c.key), 'utf8'));
      keys = () => ({ publicKey: key, validFor: () => true });
    }
    const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(p(c.bundle), 'utf8')));
    const data =
      bundle.content.$case === 'messageSignature' ? fs.readFileSync(p(c.artifact)) : undefined;
    const policy = c.key
      ? {}
      : { subjectAlternativeName: c.identity!, extensions: { issuer: c.issuer! } };
    new Verifier(toTrustMaterial(root, keys)).verify(toSignedEntity(bundle, data), policy);
    return 'pass';
  } catch {
    return 'fail';
  }
}

test('sigstore-js (the oracle) on the same cases: it accepts a trusted root with a tlog lacking validFor.start; Signet gets none wrong', () => {
  const oracleWrong = cases.filter((c) => oracle(c) !== c.expect).map((c) => c.case);
  // Recorded finding: sigstore-js reads a missing validFor.start as "valid since the epoch".
  assert.deepEqual(oracleWrong, ['trust-root-tlog-missing-validity-start_fail']);
});
