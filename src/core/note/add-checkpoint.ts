/**
 * The body of a C2SP tlog-witness `add-checkpoint` request (c2sp.org/tlog-witness):
 * `old <size>\n`, at most 63 base64 consistency-proof lines, an empty line, then the signed
 * checkpoint note. Parsed strictly; errors name what is wrong.
 */
import { invalid } from '../errors.ts';
import { fromBase64, toBase64 } from '../encoding/base64.ts';
import { HASH_SIZE } from '../merkle/hash.ts';

/** The protocol's cap on proof lines (a proof in a tree of 2^63 leaves). */
export const MAX_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Uint8Array[];
  /** The signed checkpoint note, as sent. */
  checkpoint: string;
}

export function formatAddCheckpoint(req: AddCheckpointRequest): string {
  if (req.proof.length > MAX_PROOF_LINES)
    throw invalid('proof', `has ${req.proof.length} hashes; add-checkpoint carries at most 63`);
  return `old ${req.oldSize}\n${req.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${req.checkpoint}`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function parseAddCheckpoint(body: Uint8Array | string): AddCheckpointRequest {
  let text: string;
  try {
    text = typeof body === 'string' ? body : UTF8.decode(body);
  } catch {
    throw invalid('body', 'is not UTF-8 text');
  }
  const blank = text.indexOf('\n\n');
  if (blank < 0)
    throw invalid(
      'body',
      'has no empty line between the old size and proof lines and the checkpoint',
    );
  const lines = text.slice(0, blank).split('\n');
  const m = /^old (0|[1-9][0-9]*)$/.exec(lines[0]!);
  if (!m) throw invalid('body.old', `first line "${lines[0]!.slice(0, 40)}" is not "old <size>"`);
  const oldSize = Number(m[1]);
  if (!Number.isSafeInteger(oldSize)) throw invalid('body.old', 'size is too large');
  const proofLines = lines.slice(1);
  if (proofLines.length > MAX_PROOF_LINES)
    throw invalid('body.proof', `has ${proofLines.length} lines; at most ${MAX_PROOF_LINES}`);
  const proof = proofLines.map((l, i) => {
    const h = fromBase64(l, `body.proof[${i}]`, false);
    if (h.length !== HASH_SIZE)
      throw invalid(`body.proof[${i}]`, `is ${h.length} bytes, not a ${HASH_SIZE}-byte hash`);
    return h;
  });
  return { oldSize, proof, checkpoint: text.slice(blank + 2) };
}
