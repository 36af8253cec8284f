/**
 * The credential cache (gitsign's gitsign-credential-cache): a small agent that holds the
 * ephemeral signing key and its certificate in memory for the certificate's lifetime, so that
 * a rebase of many commits signs in once. It is reachable only through a unix socket in a
 * directory of the user's own with mode 0700, the socket itself 0600; the key is handed over
 * that socket and lives only in the agent's and the signing process's memory, never on disk.
 * The agent forgets each credential when its certificate expires and exits when idle.
 *
 * Like ssh-agent, the agent also signs: git runs the signing program once per commit, and a
 * program that only forwards the payload to a process that has everything loaded (key,
 * services, open connections) is what makes a long rebase fast.
 *
 * Protocol: one JSON line per request and one per answer.
 *   {"op":"get","server":KEY}            -> {"ok":true,"credential":Credential|null}
 *   {"op":"put","server":KEY,"credential":Credential} -> {"ok":true}
 *   {"op":"sign","server":KEY,"payload":base64,"timeoutMs":n[,"committer":{"name","email"}]}
 *        -> {"ok":true,"signed":{"armored","certificate":base64,"time":ms}}
 *         | {"ok":true,"signed":null}  (none with 30 s left: sign in, then put)
 *         | {"ok":false,"error":message}  (e.g. the certificate does not name `committer`)
 *   {"op":"stop"}                         -> {"ok":true}
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignetError } from '../../core/errors.ts';
import type { Signer } from '../sign/signer.ts';
import type { Committer } from './sign.ts';
const fs = process.getBuiltinModule('node:fs');

export interface Credential {
  /** PKCS#8 PEM of the ephemeral private key. */
  keyPem: string;
  /** The certificate chain, PEM, leaf first. */
  chainPem: string[];
  /** The services chosen for this server (signing config), reused while the key lives. */
  services: {
    caUrl: string | undefined;
    tlogs: Array<{ url: string; majorApiVersion: 1 | 2 }>;
    tsaUrls: string[];
  };
  /** The certificate's notAfter (ms since the epoch). */
  notAfter: number;
}

const MAX_LINE = 16 * 1024 * 1024;

/**
 * A certificate with less time left than this signs nothing more: the log entry and timestamp
 * come after the signature and must fall within the certificate's validity, or the commit
 * never verifies (gitsign's cache asks for the same 30 s: internal/cache/client.go).
 */
export const CREDENTIAL_MARGIN_MS = 30_000;

/** Where the agent listens: SIGNET_AGENT_SOCKET, else a per-user folder under XDG_RUNTIME_DIR or /tmp. */
export function agentSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SIGNET_AGENT_SOCKET) return env.SIGNET_AGENT_SOCKET;
  const base = env.XDG_RUNTIME_DIR || os.tmpdir();
  return path.join(base, `signet-${process.getuid?.() ?? 'user'}`, 'agent.sock');
}

const ours = (st: { uid: number }) => !process.getuid || st.uid === process.getuid();

function unsafeDir(dir: string): SignetError {
  return new SignetError(
    'invalid-input',
    'UNSAFE_AGENT_DIR',
    `${dir} must be a folder of yours that only you can open (mode 0700) to hold the credential cache`,
  );
}

/** The socket's folder must be ours and closed to others; created 0700 when missing. */
function privateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || !ours(st) || (st.mode & 0o077) !== 0) throw unsafeDir(dir);
}

/**
 * Whether an agent may be at `socketPath`: 'absent' when nothing is there, 'ready' when its
 * folder is ours and closed to others and the socket is ours. Anything else throws
 * UNSAFE_AGENT_DIR: under /tmp another user can make the folder first and listen there, and a
 * client that talked to that socket would hand over the key (put) and every commit (sign), or
 * sign with a key it was given (get). Checked before every connection, not only by the agent.
 */
export function agentSocketState(socketPath: string): 'absent' | 'ready' {
  const dir = path.dirname(socketPath);
  let st: import('node:fs').Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return 'absent';
  }
  if (!st.isDirectory() || !ours(st) || (st.mode & 0o077) !== 0) throw unsafeDir(dir);
  let sock: import('node:fs').Stats;
  try {
    sock = fs.lstatSync(socketPath);
  } catch {
    return 'absent';
  }
  if (!sock.isSocket() || !ours(sock))
    throw new SignetError(
      'invalid-input',
      'UNSAFE_AGENT_DIR',
      `${socketPath} must be a socket of yours to be the credential cache`,
    );
  return 'ready';
}

/** Runs the agent until it is stopped or idle with nothing to hold. */
export async function runAgent(
  socketPath: string = agentSocketPath(),
  opts: { idleMs?: number; now?: () => number } = {},
): Promise<void> {
  const idleMs = opts.idleMs ?? 15 * 60_000;
  const now = opts.now ?? Date.now;
  privateDir(path.dirname(socketPath));
  // A socket left by an agent that died: remove it, but never anything that is not a socket.
  try {
    if (fs.lstatSync(socketPath).isSocket()) {
      if (await agentAlive(socketPath)) return; // another agent serves already
      fs.rmSync(socketPath);
    }
  } catch {
    // no socket yet
  }
  const creds = new Map<string, Credential>();
  let last = now();
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    sock.on('data', async (d: string) => {
      buf += d;
      if (buf.length > MAX_LINE) {
        sock.destroy();
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      last = now();
      let answer: unknown;
      try {
        const line = buf.slice(0, nl);
        buf = '';
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('the request is not a JSON object');
        const req = parsed as {
          op?: unknown;
          server?: unknown;
          credential?: Credential;
          payload?: unknown;
          timeoutMs?: unknown;
          committer?: unknown;
        };
        if (
          req.op === 'sign' &&
          typeof req.server === 'string' &&
          typeof req.payload === 'string'
        ) {
          const c = creds.get(req.server);
          answer = {
            ok: true,
            signed:
              c && c.notAfter - CREDENTIAL_MARGIN_MS > now()
                ? await signWithCredential(
                    c,
                    new Uint8Array(Buffer.from(req.payload, 'base64')),
                    typeof req.timeoutMs === 'number' ? req.timeoutMs : 30_000,
                    committerFrom(req.committer),
                  )
                : null,
          };
        } else if (req.op === 'get' && typeof req.server === 'string') {
          const c = creds.get(req.server);
          answer = { ok: true, credential: c && c.notAfter > now() ? c : null };
        } else if (
          req.op === 'put' &&
          typeof req.server === 'string' &&
          validCredential(req.credential)
        ) {
          creds.set(req.server, req.credential);
          answer = { ok: true };
        } else if (req.op === 'stop') {
          answer = { ok: true };
          sock.end(`${JSON.stringify(answer)}\n`, () => stop());
          return;
        } else answer = { ok: false, error: 'unknown request' };
      } catch (e) {
        answer = {
          ok: false,
          error: e instanceof SyntaxError ? 'not JSON' : ((e as Error).message ?? String(e)),
        };
      }
      sock.end(`${JSON.stringify(answer)}\n`);
    });
  });
  const old = process.umask(0o177); // the socket file is created 0600
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(old);
  }
  fs.chmodSync(socketPath, 0o600);
  const stop = () => {
    clearInterval(timer);
    for (const k of creds.keys()) creds.delete(k);
    server.close();
  };
  const timer: NodeJS.Timeout = setInterval(() => {
    for (const [k, c] of creds) if (c.notAfter <= now()) creds.delete(k);
    if (creds.size === 0 && now() - last > idleMs) stop();
  }, 5_000);
  timer.unref();
  await new Promise<void>((resolve) => server.on('close', () => resolve()));
}

const signers = new WeakMap<Credential, Signer>();

function committerFrom(c: unknown): Committer | undefined {
  if (c === undefined) return undefined;
  const o = c as Record<string, unknown> | null;
  if (typeof o?.name !== 'string' || typeof o.email !== 'string')
    throw new Error('committer must be {name, email}');
  return { name: o.name, email: o.email };
}

/** Signs in the agent with a held credential (modules loaded once, on the first signature). */
async function signWithCredential(
  c: Credential,
  payload: Uint8Array,
  timeoutMs: number,
  committer: Committer | undefined,
): Promise<{ armored: string; certificate: string; time: number }> {
  const { signGitPayload } = await import('./sign.ts');
  const signer = await credentialSigner(c);
  const r = await signGitPayload(
    payload,
    { signer, services: c.services, http: { timeoutMs, retries: 1 } },
    new Date(),
    { committer },
  );
  return {
    armored: r.armored,
    certificate: Buffer.from(r.certificate).toString('base64'),
    time: r.signingTime.getTime(),
  };
}

/** The signer a credential holds: its key, certified by its chain (made once per credential). */
export async function credentialSigner(c: Credential): Promise<Signer> {
  let signer = signers.get(c);
  if (!signer) {
    const { createPrivateKey } = process.getBuiltinModule('node:crypto');
    const { certifiedSigner } = await import('../sign/signer.ts');
    signer = certifiedSigner(createPrivateKey(c.keyPem), c.chainPem);
    signers.set(c, signer);
  }
  return signer;
}

function validCredential(c: unknown): c is Credential {
  if (typeof c !== 'object' || c === null) return false;
  const o = c as Record<string, unknown>;
  return (
    typeof o.keyPem === 'string' &&
    Array.isArray(o.chainPem) &&
    o.chainPem.every((p) => typeof p === 'string') &&
    typeof o.notAfter === 'number' &&
    typeof o.services === 'object' &&
    o.services !== null
  );
}

/**
 * One request, one answer; undefined when no agent listens (or it does not answer in time).
 * Throws UNSAFE_AGENT_DIR, before connecting, when the socket is not safely ours.
 */
export async function agentRequest(
  socketPath: string,
  req: unknown,
  timeoutMs = 2_000,
): Promise<Record<string, unknown> | undefined> {
  if (agentSocketState(socketPath) === 'absent') return undefined;
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let buf = '';
    const done = (v: Record<string, unknown> | undefined) => {
      clearTimeout(t);
      sock.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(undefined), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', () => done(undefined));
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', async (d: string) => {
      buf += d;
      if (buf.length > MAX_LINE) return done(undefined);
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const v = JSON.parse(buf.slice(0, nl)) as unknown;
        done(typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined);
      } catch {
        done(undefined);
      }
    });
    sock.on('end', () => done(undefined));
  });
}

async function agentAlive(socketPath: string): Promise<boolean> {
  return (await agentRequest(socketPath, { op: 'get', server: '' }, 500)) !== undefined;
}

/** A cached credential for `server` still valid for at least `marginMs`. */
export async function cachedCredential(
  socketPath: string,
  server: string,
  marginMs = CREDENTIAL_MARGIN_MS,
): Promise<Credential | undefined> {
  const r = await agentRequest(socketPath, { op: 'get', server });
  const c = r?.credential;
  return validCredential(c) && c.notAfter - marginMs > Date.now() ? c : undefined;
}

/**
 * Hands a credential to the agent, starting one (`start`) when none listens. Best effort: a
 * cache that cannot be reached only means the next signature signs in again.
 */
export async function storeCredential(
  socketPath: string,
  server: string,
  credential: Credential,
  start: () => void,
): Promise<boolean> {
  const put = { op: 'put', server, credential };
  if ((await agentRequest(socketPath, put))?.ok === true) return true;
  // The agent would refuse this folder and exit: said now, not after waiting for it.
  privateDir(path.dirname(socketPath));
  start();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if ((await agentRequest(socketPath, put))?.ok === true) return true;
  }
  return false;
}
