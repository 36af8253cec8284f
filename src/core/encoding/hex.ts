import { invalid } from '../errors.ts';

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict hex decoding (even length, hex digits only; either case). */
export function fromHex(text: string, field: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text))
    throw invalid(field, 'is not valid hex');
  return new Uint8Array(Buffer.from(text, 'hex'));
}
