import zlib from 'node:zlib';

/**
 * Just enough of PNG (RFC 2083) to look at a browser's screenshot: 8-bit greyscale, RGB or RGBA,
 * not interlaced (what Chromium writes). Returns the number of distinct colours and how much of
 * the image is the most common one, so a test can tell a drawn page from a blank one.
 */
export function pngStats(png: Uint8Array): {
  width: number;
  height: number;
  colours: number;
  dominant: number;
} {
  const buf = Buffer.from(png);
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('latin1');
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8]!;
      const colourType = data[9]!;
      if (depth !== 8 || data[12] !== 0) throw new Error('only 8-bit, non-interlaced PNGs');
      channels = ({ 0: 1, 2: 3, 6: 4 } as Record<number, number>)[colourType] ?? 0;
      if (!channels) throw new Error(`PNG colour type ${colourType} is not handled`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  let prev = new Uint8Array(stride);
  const counts = new Map<number, number>();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = new Uint8Array(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels]! : 0;
      const b = prev[x]!;
      const c = x >= channels ? prev[x - channels]! : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[x] = (line[x]! + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      let key = 0;
      for (let k = 0; k < Math.min(channels, 3); k++) key = key * 256 + line[x * channels + k]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    prev = line;
  }
  const dominant = Math.max(...counts.values()) / (width * height);
  return { width, height, colours: counts.size, dominant };
}
