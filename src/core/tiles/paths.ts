/**
 * C2SP tlog-tiles resource paths (c2sp.org/tlog-tiles): `tile/<L>/<N>[.p/<W>]` and
 * `tile/entries/<N>[.p/<W>]`, where N is written in 3-digit groups, all but the last prefixed
 * with `x` (1234067 -> x001/x234/067), and W (1..255) marks a partial tile.
 */
import { invalid } from '../errors.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** Hash-tile levels are 0..63 (c2sp.org/tlog-tiles). */
export const MAX_TILE_LEVEL = 63;

export type TileRef =
  | { kind: 'hash'; level: number; index: number; width?: number }
  | { kind: 'entries'; index: number; width?: number };

/** N as `x`-prefixed 3-digit groups. */
export function formatTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new RangeError(`tile index ${index} is not a non-negative integer`);
  let s = String(index % 1000).padStart(3, '0');
  let n = Math.floor(index / 1000);
  while (n > 0) {
    s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
    n = Math.floor(n / 1000);
  }
  return s;
}

function suffix(width: number | undefined): string {
  if (width === undefined || width === TILE_WIDTH) return '';
  if (!Number.isInteger(width) || width < 1 || width > 255)
    throw new RangeError(`partial tile width ${width} is not in 1..255`);
  return `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]` */
export function tilePath(level: number, index: number, width?: number): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL)
    throw new RangeError(`tile level ${level} is not in 0..${MAX_TILE_LEVEL}`);
  return `tile/${level}/${formatTileIndex(index)}${suffix(width)}`;
}

/** `tile/entries/<N>[.p/<W>]` */
export function entriesPath(index: number, width?: number): string {
  return `tile/entries/${formatTileIndex(index)}${suffix(width)}`;
}

/** `tile/data/<N>[.p/<W>]`: a static-ct-api log's entries (c2sp.org/static-ct-api). */
export function dataTilePath(index: number, width?: number): string {
  return `tile/data/${formatTileIndex(index)}${suffix(width)}`;
}

/**
 * Parse the part of a tile path after `tile/` (e.g. `0/x001/234.p/7` or `entries/005`),
 * strictly: every group exactly 3 digits, `x` on all but the last, no leading zeros in L or W.
 */
export function parseTilePath(rest: string, field = 'path'): TileRef {
  const slash = rest.indexOf('/');
  if (slash < 0) throw invalid(field, `"${rest}" is not <level>/<index> or entries/<index>`);
  const head = rest.slice(0, slash);
  let tail = rest.slice(slash + 1);
  let width: number | undefined;
  const p = tail.indexOf('.p/');
  if (p >= 0) {
    const w = tail.slice(p + 3);
    if (!/^[1-9][0-9]{0,2}$/.test(w) || Number(w) > 255)
      throw invalid(field, `partial width "${w}" is not a number in 1..255 without leading zeros`);
    width = Number(w);
    tail = tail.slice(0, p);
  }
  const groups = tail.split('/');
  let index = 0;
  for (const [i, g] of groups.entries()) {
    const last = i === groups.length - 1;
    const m = last ? /^([0-9]{3})$/.exec(g) : /^x([0-9]{3})$/.exec(g);
    if (!m)
      throw invalid(
        field,
        `tile index group "${g}" must be ${last ? 'three digits' : '"x" and three digits'}`,
      );
    index = index * 1000 + Number(m[1]);
  }
  if (!Number.isSafeInteger(index)) throw invalid(field, 'tile index is too large');
  // A canonical path has no leading all-zero groups (x000/005 is 005).
  if (groups.length > 1 && groups[0] === 'x000')
    throw invalid(field, 'tile index has a leading x000 group');
  if (head === 'entries')
    return width === undefined ? { kind: 'entries', index } : { kind: 'entries', index, width };
  if (!/^(0|[1-9][0-9]?)$/.test(head) || Number(head) > MAX_TILE_LEVEL)
    throw invalid(field, `tile level "${head}" is not a number in 0..${MAX_TILE_LEVEL}`);
  const level = Number(head);
  return width === undefined
    ? { kind: 'hash', level, index }
    : { kind: 'hash', level, index, width };
}
