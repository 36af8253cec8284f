/**
 * The bytes of an ASCII text (base64, hex, JSON of such values), whose latin1 bytes are its
 * UTF-8. Taken from Node's shared pool: a TextEncoder result has a backing store of its own,
 * which costs more than the encoding for texts made and dropped once per request.
 */
export function asciiBytes(text: string): Uint8Array {
  const b = Buffer.from(text, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
