import { invalid } from '../errors.ts';
import { fromBase64, toBase64 } from './base64.ts';

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every PEM block in `text`, in order. Text outside blocks is ignored (as openssl does). */
export function decodePemAll(text: string, field: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!.replace(/\s+/g, '');
    out.push({ label: m[1]!, der: fromBase64(body, field, false) });
  }
  if (out.length === 0) throw invalid(field, 'contains no PEM block');
  return out;
}

/** The single PEM block of `text`; when `label` is given the block must carry it. */
export function decodePem(text: string, field: string, label?: string): PemBlock {
  const blocks = decodePemAll(text, field);
  if (blocks.length !== 1) throw invalid(field, `expected one PEM block, found ${blocks.length}`);
  const b = blocks[0]!;
  if (label !== undefined && b.label !== label)
    throw invalid(field, `expected a PEM "${label}" block, found "${b.label}"`);
  return b;
}

/** PEM text with 64-character lines and a trailing newline, as Go's encoding/pem writes it. */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  // Sliced rather than split by a regular expression: the CA encodes a leaf per request.
  let body = b64.length === 0 ? '\n' : '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
