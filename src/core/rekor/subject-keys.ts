import { digestSearchKey } from './hash.ts';
import { isObject } from './json.ts';

/**
 * Search keys for what an attestation is about: every entry kind that receives a DSSE payload
 * (Rekor v1 dsse and intoto, Rekor v2 dsse) indexes its subjects, so a search by an artifact's
 * digest finds the attestations about it whichever API logged them. The keys are the subjects'
 * digests (`alg:hex`), as Rekor indexes them, for the hashes a search takes (hash.ts), and a
 * git commit ID (in-toto's `gitCommit`, as `signet-gitsign attest` names the commit) as
 * `gitcommit:<hex>`: the statement is anyone's JSON, and a digest named `identity` or `key`
 * would otherwise index the entry under someone's identity or key.
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
        const key = typeof v === 'string' ? subjectSearchKey(alg, v) : undefined;
        if (key) out.push(key);
      }
    }
    return out;
  } catch {
    return []; // not JSON: nothing to index (the entry itself is still valid)
  }
}

/**
 * The search key of a git commit ID: `gitcommit:<hex>`, lower-cased (the form admission gave a
 * `gitCommit` subject when it indexed every digest name, which logs written then may still
 * hold), for a SHA-1 repository's 40 hex digits or a SHA-256 one's 64; else undefined.
 */
export function gitCommitSearchKey(hex: string): string | undefined {
  return /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(hex)
    ? `gitcommit:${hex.toLowerCase()}`
    : undefined;
}

/**
 * The key a subject digest (its name and value, untrusted) is indexed under, or undefined. The
 * name is read in any case, as hash names are (digestSearchKey).
 */
export function subjectSearchKey(name: string, value: string): string | undefined {
  return name.toLowerCase() === 'gitcommit'
    ? gitCommitSearchKey(value)
    : digestSearchKey(name, value);
}

/** Whether `key` is one a subject digest is indexed under (subjectSearchKey's form). */
export function isSubjectSearchKey(key: string): boolean {
  const colon = key.indexOf(':');
  return colon > 0 && subjectSearchKey(key.slice(0, colon), key.slice(colon + 1)) === key;
}
