/**
 * The monitor bench's log server, in a process of its own as a log is for a monitor that
 * catches up with it: serves the filled log's tiles (C2SP tlog-tiles routes) on loopback.
 * argv: data folder, key file. Prints the URL on its first line; on "cpu\n" from stdin prints
 * its CPU seconds so far; exits when stdin closes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import type http from 'node:http';
import { openLog } from '../src/log/index.ts';
import { bindServer, createApp } from '../src/services/http/app.ts';
import { tileRoutes } from '../src/services/tiles/index.ts';

const [dir, origin] = process.argv.slice(2) as [string, string];
const log = await openLog({
  name: 'monitored',
  dataDir: dir,
  sqliteFile: 'monitored.sqlite',
  sqliteSynchronous: 'NORMAL',
  signer: { key: createPrivateKey(fs.readFileSync(path.join(dir, 'key.pem'))), origin },
});
const { server, url } = await bindServer(0, '127.0.0.1');
const app = createApp({}, () => server as http.Server);
await app.register(tileRoutes(log), { prefix: '/log' });
await app.ready();
process.stdout.write(`${url}/log\n`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (d.includes('cpu')) {
    const c = process.cpuUsage();
    process.stdout.write(`${(c.user + c.system) / 1e6}\n`);
  }
});
process.stdin.on('end', () => {
  void (async () => {
    await app.close();
    server.closeAllConnections();
    server.close();
    await log.close();
    process.exit(0);
  })();
});
