import { SignetError } from '../../core/errors.ts';
import type { ParsedEntry } from '../../core/rekor/index.ts';
import { MAX_SEARCH_KEYS } from '../../log/index.ts';
import type { AppendResult } from '../../log/types.ts';
import type { Shard } from './shards.ts';
import type { VerifyQueue } from './verify-queue.ts';

/**
 * Admission: every signature check passes before the entry is handed to the log (Rekor:
 * "signature verified against the given key or certificate before admission"); the log then
 * sequences it, dedupes it and acknowledges once it is durable under a signed checkpoint.
 */
export async function admit(
  shard: Shard,
  parsed: ParsedEntry,
  queue: VerifyQueue,
  /** Where a failed digest signature check is reported: the field differs per API. */
  signatureField: string,
): Promise<AppendResult> {
  if (!shard.active)
    throw new SignetError('unsupported', 'LOG_FROZEN', 'log frozen, switch to the latest log');
  for (const p of parsed.pending) {
    if (!(await queue.verify(p)))
      throw new SignetError(
        'verification',
        'SIGNATURE_INVALID',
        'the signature does not verify over the digest with the given key or certificate',
        { field: signatureField },
      );
  }
  const req: Parameters<Shard['engine']['append']>[0] = {
    leaf: parsed.body,
    // Keys beyond the engine's limits are dropped rather than refusing the entry (the engine
    // leaves out those no store can hold: log/search-key.ts).
    searchKeys: parsed.searchKeys.slice(0, MAX_SEARCH_KEYS),
  };
  if (parsed.attestation) req.extra = parsed.attestation;
  return shard.engine.append(req);
}
