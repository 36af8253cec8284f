/**
 * HTTP/1.1 over a plain socket, so a request can be anything a hostile client sends: a bad
 * escape kept as is, oversized or countless headers, a body shorter than its Content-Length.
 */
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent as is (no encoding). */
  path: string;
  headers?: Array<[string, string]>;
  body?: Uint8Array | string;
  /** Send only this many body bytes (Content-Length still says the whole), then half-close. */
  truncateTo?: number;
}

export interface RawResponse {
  /** 0: the connection closed (or timed out) without an HTTP answer. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i);
    if (eol < 0) break;
    const n = parseInt(b.subarray(i, eol).toString(), 16);
    if (!Number.isFinite(n) || n === 0) break;
    out.push(b.subarray(eol + 2, eol + 2 + n));
    i = eol + 2 + n + 2;
  }
  return Buffer.concat(out);
}

/** The response in `all`, once it is complete (by Content-Length or the last chunk). */
function parse(all: Buffer, method: string, closed: boolean): RawResponse | undefined {
  const end = all.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(all.subarray(0, 20).toString());
  if (end < 0 || !m) return closed ? { status: 0, headers: {}, body: all } : undefined;
  const headers: Record<string, string> = {};
  for (const line of all.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  const status = Number(m[1]);
  let body: Buffer = all.subarray(end + 4);
  if (method === 'HEAD' || status === 204 || status === 304)
    return { status, headers, body: Buffer.alloc(0) };
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    if (!closed && !body.subarray(-5).equals(Buffer.from('0\r\n\r\n'))) return undefined;
    body = dechunk(body);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (body.length < n) return closed ? { status: 0, headers, body } : undefined;
    body = body.subarray(0, n);
  } else if (!closed) return undefined;
  return { status, headers, body };
}

/**
 * One request on a fresh connection. The connection is kept alive as a browser or fetch would
 * (with "Connection: close" a server that answers before reading a large body closes on data
 * still arriving, and the reset can discard its answer), and dropped once the answer is read.
 */
export function rawRequest(port: number, r: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  const head = [`${r.method} ${r.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [k, v] of r.headers ?? []) head.push(`${k}: ${v}`);
  if (body && !(r.headers ?? []).some(([k]) => k.toLowerCase() === 'content-length'))
    head.push(`Content-Length: ${body.length}`);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (res: RawResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(res);
    };
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d) => {
      chunks.push(d);
      const res = parse(Buffer.concat(chunks), r.method, false);
      if (res) finish(res);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(parse(Buffer.concat(chunks), r.method, true)!));
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    if (body) socket.write(r.truncateTo === undefined ? body : body.subarray(0, r.truncateTo));
    if (r.truncateTo !== undefined) socket.end();
  });
}
