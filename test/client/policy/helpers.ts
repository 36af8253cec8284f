// A stack with a few signers (alice, bob, carol by email; a CI workflow) and helpers that sign
// through it with Signet's own client, so policies are tested over real bundles: real
// certificates, SCTs, log entries and timestamps.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { parseTrustedRoot, type TrustedRoot } from '../../../src/bundle/trusted-root.ts';
import { parseSigningConfig } from '../../../src/bundle/signing-config.ts';
import type { Bundle } from '../../../src/bundle/bundle.ts';
import {
  keySigner,
  servicesFromSigningConfig,
  setupSigning,
  signArtifact,
  signEnvelope,
  type SignContext,
} from '../../../src/client/sign/index.ts';
import { buildStatement, INTOTO_PAYLOAD_TYPE } from '../../../src/core/intoto/index.ts';

export const PEOPLE = ['alice@example.com', 'bob@example.com', 'carol@example.com'];

export async function policyStack() {
  const stack = await tempStack({
    config: {
      oidc: { identities: PEOPLE.map((name) => ({ flavor: 'email', name })) },
    },
  });
  const root: TrustedRoot = parseTrustedRoot(
    await (await fetch(`${stack.url}/trusted_root.json`)).json(),
  );
  const rootJson = await (await fetch(`${stack.url}/trusted_root.json`)).text();
  const config = parseSigningConfig(await (await fetch(`${stack.url}/signing_config.json`)).json());
  const issuer = `${stack.url}/oidc`;
  const contexts = new Map<string, SignContext>();
  async function keyless(subject: string): Promise<SignContext> {
    let ctx = contexts.get(subject);
    if (!ctx) {
      ctx = await setupSigning({
        server: stack.url,
        identityToken: await stackToken(stack.url, subject),
        interactive: 'never',
        rekorVersion: 1, // legacy .sig image signatures need a v1 entry (its SET)
      });
      contexts.set(subject, ctx);
    }
    return ctx;
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyCtx: SignContext = {
    signer: keySigner(privateKey),
    services: servicesFromSigningConfig(config, { keyless: false, rekorVersion: 1 }),
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-policy-'));
  fs.writeFileSync(path.join(dir, 'trusted_root.json'), rootJson);
  return {
    stack,
    root,
    issuer,
    dir,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    /** A keyless messageSignature bundle by `subject`. */
    async sign(data: Uint8Array, subject: string): Promise<Bundle> {
      return signArtifact(data, await keyless(subject));
    },
    async signWithKey(data: Uint8Array): Promise<Bundle> {
      return signArtifact(data, keyCtx);
    },
    /** A keyless in-toto attestation about `data`. */
    async attest(
      data: Uint8Array,
      subject: string,
      predicateType: string,
      predicate: unknown,
    ): Promise<Bundle> {
      const sha256 = createHash('sha256').update(data).digest('hex');
      const st = buildStatement(
        [{ name: 'artifact', digest: { sha256 } }],
        predicateType,
        predicate,
      );
      return signEnvelope(st, INTOTO_PAYLOAD_TYPE, await keyless(subject));
    },
    /** Writes a file in the policy folder and returns its path. */
    write(name: string, text: string): string {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    },
    /** The signing context of `subject` (keyless), or of the test key. */
    context: (subject?: string) =>
      subject === undefined ? Promise.resolve(keyCtx) : keyless(subject),
    close: () => stack.close(),
  };
}

/** A CEL list literal of 40 integers, which nested comprehensions multiply (40^5 = 10^8). */
export const CEL_LIST_40 = `[${Array.from({ length: 40 }, (_, i) => i).join(',')}]`;

/**
 * A CEL condition that builds lists of lists (40^5 strings, gigabytes) until its evaluator's
 * memory bound stops it.
 */
export const HUNGRY_CONDITION = (() => {
  const l = CEL_LIST_40;
  return `size(${l}.map(a, ${l}.map(b, ${l}.map(c, ${l}.map(d, ${l}.map(e, 'xxxxxxxxxxxxxxxx' + string(a))))))) > 0`;
})();

/**
 * A CEL condition that runs for minutes: `depth` nested comprehensions over CEL_LIST_40
 * (10^8 steps at depth 5), in an expression the library's structural limits allow.
 */
export function nestedComprehensions(depth: number): string {
  const vars = 'abcde'.slice(0, depth).split('');
  return vars.reduceRight(
    (inner, v) => `${CEL_LIST_40}.all(${v}, ${inner})`,
    `${vars.join(' + ')} >= 0`,
  );
}
