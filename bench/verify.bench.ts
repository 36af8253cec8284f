/**
 * Bundles verified per second by Signet and by sigstore-js (@sigstore/verify) on the same
 * bundles in the same run: public-good and staging bundles from the conformance corpus
 * (Rekor v1 message signatures and DSSE, Rekor v2 with RFC 3161 timestamps). Each side parses
 * the bundle JSON and verifies it fully (identity policy included); trust material is built
 * once per side, as a long-running verifier would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, Verifier, toSignedEntity } from '@sigstore/verify';
import { bundleFromJSON } from '@sigstore/bundle';
import { parseBundleJSON, parseTrustedRootJSON } from '../src/bundle/index.ts';
import { exact, verifyBundle } from '../src/client/verify/index.ts';

const C = path.resolve(import.meta.dirname, '../test/fixtures/conformance');
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const CASES = [
  ['happy-path-v0.1', 'trust-roots/production/trusted_root.json'],
  ['happy-path-v0.3', 'trust-roots/production/trusted_root.json'],
  ['happy-path-intoto-in-dsse-v3', 'trust-roots/production/trusted_root.json'],
  ['rekor2-happy-path', 'bundle-verify/rekor2-happy-path/trusted_root.json'],
  ['rekor2-dsse-happy-path', 'bundle-verify/rekor2-dsse-happy-path/trusted_root.json'],
] as const;

/**
 * Rounds of each side alternate (the machine is shared); the best round of each counts.
 * `perCall` is how many bundles one call verifies.
 */
function measure(
  sides: Array<[string, () => void]>,
  perCall: number,
  rounds = 5,
  roundMs = 400,
  print = true,
): number[] {
  for (const [, fn] of sides) for (let i = 0; i < 10; i++) fn(); // warm up
  const best = sides.map(() => 0);
  for (let r = 0; r < rounds; r++)
    for (const [i, [, fn]] of sides.entries()) {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < roundMs) {
        fn();
        n++;
      }
      best[i] = Math.max(best[i]!, (n * perCall) / ((performance.now() - start) / 1000));
    }
  if (print)
    for (const [i, [label]] of sides.entries())
      console.log(`${label.padEnd(28)} ${best[i]!.toFixed(0).padStart(7)} bundles/s`);
  return best;
}

export async function run(): Promise<void> {
  const artifact = fs.readFileSync(path.join(C, 'bundle-verify/a.txt'));
  const inputs = CASES.map(([name, root]) => ({
    text: fs.readFileSync(path.join(C, 'bundle-verify', name, 'bundle.sigstore.json'), 'utf8'),
    rootText: fs.readFileSync(path.join(C, root), 'utf8'),
  }));
  const signetRoots = inputs.map((i) => parseTrustedRootJSON(i.rootText));
  const oracleMaterial = inputs.map((i) =>
    toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(i.rootText))),
  );
  const data = { kind: 'bytes' as const, data: new Uint8Array(artifact) };
  const policy = {
    kind: 'identity' as const,
    identity: { subjectAlternativeName: exact(SAN), issuer: exact(ISS) },
  };
  const signetOne = (i: number): void => {
    verifyBundle(parseBundleJSON(inputs[i]!.text), data, signetRoots[i]!, policy);
  };
  const oracleOne = (i: number): void => {
    {
      const input = inputs[i]!;
      const b = bundleFromJSON(JSON.parse(input.text));
      const entity = toSignedEntity(
        b,
        b.content.$case === 'messageSignature' ? artifact : undefined,
      );
      new Verifier(oracleMaterial[i]!).verify(entity, {
        subjectAlternativeName: SAN,
        extensions: { issuer: ISS },
      });
    }
  };
  const all = (f: (i: number) => void) => () => inputs.forEach((_, i) => f(i));
  const [signet, oracle] = measure(
    [
      ['signet verifyBundle', all(signetOne)],
      ['sigstore-js Verifier.verify', all(oracleOne)],
    ],
    CASES.length,
  ) as [number, number];
  console.log(`ratio signet / sigstore-js       ${(signet / oracle).toFixed(2)}x (target >= 3x)`);
  for (const [i, [name]] of CASES.entries()) {
    const [s, o] = measure(
      [
        ['signet', () => signetOne(i)],
        ['sigstore-js', () => oracleOne(i)],
      ],
      1,
      3,
      250,
      false,
    ) as [number, number];
    console.log(
      `  ${name.padEnd(30)} signet ${s.toFixed(0).padStart(5)}/s  sigstore-js ${o.toFixed(0).padStart(5)}/s  ${(s / o).toFixed(2)}x`,
    );
  }
}

if (import.meta.main) await run();
