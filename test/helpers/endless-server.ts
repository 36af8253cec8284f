import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server that answers every request 200 and then streams its body forever, as
 * fast as the reader takes it: for checking that an answer is cut off at a size limit instead
 * of being buffered whole. `streamed()` is how many bytes it has written so far.
 */
export async function endlessServer(contentType: string): Promise<{
  url: string;
  streamed(): number;
  close(): void;
}> {
  let streamed = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': contentType });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const more = (): void => {
      while (res.write(chunk)) streamed += chunk.length;
      res.once('drain', more);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streamed: () => streamed,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
