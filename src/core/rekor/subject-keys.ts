import { digestSearchKey } from './hash.ts';
import { isObject } from './json.ts';

/**
 * Search keys for what an attestation is about: every entry kind that receives a DSSE payload
 * (Rekor v1 dsse and intoto, Rekor v2 dsse) indexes its subjects, so a search by an artifact's
 * digest finds the attestations about it whichever API logged them. The keys are the subjects'
 * digests (`alg:hex`), as Rekor indexes them, for the hashes a search takes (hash.ts): the
 * statement is anyone's JSON, and a digest named `identity` or `key` would otherwise index the
 * entry under someone's identity or key.
 */
export function intotoSubjectKeys(payloadType: string, payload: Uint8Array): string[] {
  if (payloadType !== 'application/vnd.in-toto+json') return [];
  try {
    const st = JSON.parse(new TextDecoder().decode(payload)) as unknown;
    if (!isObject(st) || !Array.isArray(st.subject)) return [];
    const out: string[] = [];
    for (const s of st.subject) {
      if (!isObject(s) || !isObject(s.digest)) continue;
      for (const [alg, v] of Object.entries(s.digest)) {
        const key = typeof v === 'string' ? digestSearchKey(alg, v) : undefined;
        if (key) out.push(key);
      }
    }
    return out;
  } catch {
    return []; // not JSON: nothing to index (the entry itself is still valid)
  }
}
