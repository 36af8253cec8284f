import { SignetError } from '../../core/errors.ts';
import type { ParsedEntry } from '../../core/rekor/index.ts';
import type { AppendResult } from '../../log/types.ts';
import type { Shard } from './shards.ts';
import type { VerifyQueue } from './verify-queue.ts';

/** The field a failed digest signature check is reported on, per API. */
export type SignatureField = string;

/**
 * Admission: every signature check passes before the entry is handed to the log (Rekor:
 * "signature verified against the given key or certificate before admission"); the log then
 * sequences it, dedupes it and acknowledges once it is durable under a signed checkpoint.
 */
export async function admit(
  shard: Shard,
  parsed: ParsedEntry,
  queue: VerifyQueue,
  signatureField: SignatureField,
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
    // the engine's limits: at most 64 keys of at most 1024 characters (an index, not evidence)
    searchKeys: parsed.searchKeys.filter((k) => k.length <= 1024).slice(0, 64),
  };
  if (parsed.attestation) req.extra = parsed.attestation;
  return shard.engine.append(req);
}
