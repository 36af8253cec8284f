import path from 'node:path';
import type { Command } from 'commander';
import { printable } from '../../core/encoding/printable.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import type { KeyRing } from '../../services/keyring.ts';
const fs = process.getBuiltinModule('node:fs');

/** Roots and the key they certify (whose next version a new root must issue). */
const ISSUED_BY = new Map([
  ['ca-root', 'ca'],
  ['tsa-ca', 'tsa'],
]);

/** The built-in CA's rings: not the CA in use when it comes from files (ca.certChain). */
const ISSUING_CA = ['ca', 'ca-root'];

interface RotateFlags {
  data?: string;
}

/**
 * `signet rotate --data DIR <key>`: adds a new version of a service key (KeyRing.rotate). The
 * old version stays in the ring with the end of its validity window, so after the next
 * `signet up` the trusted root lists both and every earlier bundle stays verifiable; the TUF
 * root is re-signed by the old and the new root key.
 */
export function registerRotate(program: Command): void {
  program
    .command('rotate')
    .description(
      'rotate a service key (ca, ca-root, ctlog, rekor, tsa, tsa-ca, oidc, tuf-root, tuf-targets, tuf-snapshot, tuf-timestamp; ca-root and tsa-ca rotate ca and tsa with them); refused while a stack runs on the data folder: stop it, rotate, start it again',
    )
    .argument('[key]', 'the key to rotate; without it, list the keys and their versions')
    .option('--data <dir>', 'data folder of the stack (env SIGNET_DATA; default ./.signet)')
    .action(async (key: string | undefined, flags: RotateFlags) => {
      // Loaded when rotate runs, not at every start of `signet` (verify's wall time counts).
      const [{ acquireDataLock }, { KeyRing }, { currentFileChain, readFileChains }] =
        await Promise.all([
          import('../../services/data-lock.ts'),
          import('../../services/keyring.ts'),
          import('../../services/ca/history.ts'),
        ]);
      const dataDir = flags.data ?? process.env.SIGNET_DATA ?? '.signet';
      if (!fs.existsSync(path.join(dataDir, 'keys')))
        throw new SignetError(
          'not-found',
          'NO_DATA',
          `${dataDir} is not a data folder of a stack (no keys/ in it): start the stack once first (signet up --data ${dataDir}) or name the folder with --data`,
        );
      const rings = listRings(dataDir);
      // The CA comes from the config's files when the stack was last started with them (or,
      // in a folder of an earlier Signet, when it has keys but never had the built-in CA).
      const caFromFiles =
        currentFileChain(dataDir) !== undefined || (rings.length > 0 && !rings.includes('ca'));
      const window = (v: { validFrom: Date; validTo?: Date }) =>
        `(${v.validFrom.toISOString()} .. ${v.validTo ? v.validTo.toISOString() : 'now'})`;
      if (key === undefined) {
        for (const name of rings) {
          const ring = KeyRing.open(dataDir, name, { type: 'ec', curve: 'P-256' });
          const versions = ring.versions.map((v) => `${v.id} ${window(v)}`).join(', ');
          const unused =
            caFromFiles && ISSUING_CA.includes(name)
              ? '; not in use: the CA comes from ca.certChain'
              : '';
          process.stdout.write(`${name}: ${versions}${unused}\n`);
        }
        const chains = readFileChains(dataDir);
        if (chains.length > 0)
          process.stdout.write(
            `ca from ca.certChain: ${chains.map((c) => `${c.id} "${printable(c.chain[0]!.subject)}" ${window(c)}`).join(', ')}\n`,
          );
        return;
      }
      if (ISSUING_CA.includes(key) && caFromFiles)
        throw invalid(
          'key',
          `the CA of ${dataDir} comes from files (ca.certChain and ca.key in the stack's config), not from a key of the data folder: ` +
            'to renew it, point ca.certChain and ca.key at the new chain and its key and start the stack again (signet up); ' +
            'its trusted root keeps the chain before, so every bundle signed before still verifies',
        );
      if (!rings.includes(key))
        throw invalid(
          'key',
          `no key "${key}" in ${dataDir}${rings.length ? `; the keys there are: ${rings.join(', ')}` : ': start the stack once first (signet up --data ' + dataDir + ')'}`,
        );
      // A running stack would keep signing with the old key and publish a trusted root
      // without the new one: refused while any process holds the folder (and no stack can
      // start while the rotation writes).
      const lock = acquireDataLock(dataDir, { mode: 'maintenance', what: 'signet rotate' });
      const rotated: KeyRing[] = [];
      try {
        // A root certifies only the issuing key's next version: rotate that one too, at the
        // same instant, or the new root would sign nothing and the old chain stay current.
        const at = new Date();
        for (const name of [key, ISSUED_BY.get(key)].filter((n) => n !== undefined))
          rotated.push(KeyRing.rotate(dataDir, name, at));
      } finally {
        lock.release();
      }
      for (const ring of rotated) {
        const cur = ring.current();
        const prev = ring.versions[ring.versions.length - 2]!;
        process.stdout.write(
          `rotated ${ring.name}: version ${cur.id} is current from ${cur.validFrom.toISOString()}; ` +
            `version ${prev.id} stays trusted for what it signed until then.\n`,
        );
      }
      process.stdout.write(
        'Start the stack again (signet up) to publish the new trusted root and TUF metadata.\n',
      );
    });
}

/** Names of the key rings in a data folder (folders of `keys/` holding a ring.json). */
function listRings(dataDir: string): string[] {
  const dir = path.join(dataDir, 'keys');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => fs.existsSync(path.join(dir, n, 'ring.json')))
    .sort();
}
