import net from 'node:net';
import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** The PostgreSQL server tests use (trust auth on these machines; .ci/run starts it). */
export const PG_ADMIN_URL =
  process.env.SIGNET_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh, empty database for one test file, dropped by the returned `drop`. Each test gets
 * its own database so runs in parallel never see each other's rows.
 */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `signet_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * A TCP proxy on loopback in front of the PostgreSQL server of `url`, to take the database
 * away from a stack and give it back: `cut` refuses new connections and cuts the open ones,
 * `restore` listens again on the same port. `url` through the proxy is `via`.
 */
export async function postgresProxy(url: string): Promise<{
  via: string;
  cut: () => Promise<void>;
  restore: () => Promise<void>;
}> {
  const upstream = new URL(url);
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(server).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      proxy.once('error', reject);
      proxy.listen(port, '127.0.0.1', () => {
        proxy.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (proxy.address() as net.AddressInfo).port;
  const via = new URL(url);
  via.hostname = '127.0.0.1';
  via.port = String(port);
  return {
    via: via.toString(),
    async cut() {
      const closed = new Promise((r) => proxy.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: () => listen(port),
  };
}
