import { invalid } from '../core/errors.ts';

export function parsePort(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw invalid(flag, `"${text}" is not a port number`);
  const n = Number(text);
  if (n > 65535) throw invalid(flag, `${n} is not a port number (0-65535)`);
  return n;
}
