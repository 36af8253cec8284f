/**
 * Which logs a witness witnesses, from vkeys and/or a trusted root. A trusted root's tlog is
 * witnessed in both the views a Signet shard publishes: C2SP checkpoints (origin = the base URL
 * without scheme) and Rekor v1 checkpoints (origin `<host> - <treeID>`, signed under the key name
 * `<host>`, with Signet's tree ID for the key: core/rekor/ids.ts treeIdForKey).
 */
import { invalid, SignetError } from '../../core/errors.ts';
import { originOfUrl, rekorV1Origin } from '../../core/note/checkpoint.ts';
import { treeIdForKey } from '../../core/rekor/ids.ts';
import { parseVerifierKey, trustedLogVerifier } from '../../core/note/keys.ts';
import { parseTrustedRootJSON } from '../../bundle/trusted-root.ts';
import { readTextFile } from '../read-file.ts';
import type { WitnessedLog } from './witness.ts';

export function witnessedLogs(opts: {
  vkeys: string[];
  trustedRootFile?: string | undefined;
}): WitnessedLog[] {
  const byOrigin = new Map<string, WitnessedLog>();
  const add = (l: WitnessedLog) => {
    const have = byOrigin.get(l.origin);
    if (have) have.verifiers.push(...l.verifiers);
    else byOrigin.set(l.origin, l);
  };
  for (const v of opts.vkeys) {
    const key = parseVerifierKey(v.trim(), '--log');
    add({ origin: key.name, verifiers: [key] });
  }
  if (opts.trustedRootFile) {
    const text = readTextFile(opts.trustedRootFile, 'trusted root', { field: '--trusted-root' });
    let root;
    try {
      root = parseTrustedRootJSON(text, opts.trustedRootFile);
    } catch (e) {
      if (e instanceof SignetError) throw invalid('--trusted-root', e.message, e);
      throw e;
    }
    for (const t of root.tlogs) {
      const origin = originOfUrl(t.baseUrl);
      if (!origin) continue;
      const keyId = t.checkpointKeyId ?? t.logId;
      add({ origin, verifiers: [trustedLogVerifier(origin, keyId, t.publicKey)] });
      const host = origin.split('/')[0]!;
      const spki = new Uint8Array(t.publicKey.export({ format: 'der', type: 'spki' }));
      add({
        origin: rekorV1Origin(host, treeIdForKey(spki)),
        verifiers: [trustedLogVerifier(host, keyId, t.publicKey)],
      });
    }
  }
  if (byOrigin.size === 0)
    throw invalid('--log', 'name at least one log to witness (--log VKEY or --trusted-root FILE)');
  return [...byOrigin.values()];
}
