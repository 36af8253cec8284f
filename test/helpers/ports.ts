import net from 'node:net';

/**
 * A loopback port nothing listens on: bound, then released. A server started on it a moment
 * later takes it; a client sent to it meets a refused connection at once (a service that is
 * down).
 */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
