/**
 * Write load against a running stack, in its own process (so killing the stack never kills the
 * client): `node bench/support/load-driver.ts` with
 *   LOAD_URL     the stack's base URL (it may be down for a while: the driver keeps trying)
 *   LOAD_MIX     comma list of v1 (Rekor v1 hashedrekord), v2 (Rekor v2 hashedrekord),
 *                cert (token + Fulcio signingCert), tsa (RFC 3161, JSON form),
 *                badtoken (signingCert with a token that is not a JWT: a 401)
 *   LOAD_LOOPS   concurrent loops per kind (default 2)
 *   LOAD_PAUSE_MS pause after each request of a loop (default 0)
 * The first line is `{"key": PEM}` (the key every log entry is signed with). Each acknowledged log entry is one JSON line `{"ack": {...}}` on stdout, as soon as its 201
 * arrives; on SIGTERM the driver stops, waits for what is in flight and prints
 * `{"stats": {...}}` (responses by kind and status, connection failures) and exits.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { hashedrekordV001, toTlogEntry } from '../../src/client/http/rekor-v1.ts';
import { hashedrekordRequestV002 } from '../../src/client/http/rekor-v2.ts';

export interface Ack {
  api: 'v1' | 'v2';
  logIndex: number;
  /** hex of the signed artifact bytes */
  artifact: string;
  /** base64 of the signature */
  signature: string;
  /** base64 canonicalized body, as acknowledged */
  body: string;
  /** the checkpoint the acknowledgement proved inclusion in */
  treeSize: number;
  rootHash: string;
}

export interface LoadStats {
  /**
   * "kind status" -> count; status 0 = no HTTP answer (connection refused or cut);
   * "kind 503 starting" = the 503 of a stack that is still starting.
   */
  responses: Record<string, number>;
  /** the first body of each other 5xx, by "kind status" */
  serverErrors: Record<string, string>;
}

const url = (process.env['LOAD_URL'] ?? '').replace(/\/+$/, '');
const mix = (process.env['LOAD_MIX'] ?? 'v1,v2').split(',').filter(Boolean);
const loops = Number(process.env['LOAD_LOOPS'] ?? 2);
const pauseMs = Number(process.env['LOAD_PAUSE_MS'] ?? 0);

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
const stats: LoadStats = { responses: {}, serverErrors: {} };
let stopping = false;

function count(kind: string, status: number, body?: string): void {
  // The 503 a stack answers while it starts is expected; it is counted apart.
  const starting = status === 503 && body?.includes('"STARTING"') === true;
  const k = `${kind} ${status}${starting ? ' starting' : ''}`;
  stats.responses[k] = (stats.responses[k] ?? 0) + 1;
  if (status >= 500 && !starting) stats.serverErrors[k] ??= (body ?? '').slice(0, 300);
}

/** One request; the status (0 when the stack did not answer) and the body text. */
async function post(
  kind: string,
  path: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; text: string }> {
  try {
    const r = await fetch(url + path, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await r.text();
    count(kind, r.status, text);
    return { status: r.status, text };
  } catch {
    count(kind, 0);
    return { status: 0, text: '' };
  }
}

function artifactAndSignature() {
  const artifact = randomBytes(24);
  return {
    artifact,
    digest: createHash('sha256').update(artifact).digest(),
    signature: sign('sha256', artifact, privateKey),
  };
}

function emitAck(api: 'v1' | 'v2', a: Buffer, sig: Buffer, json: unknown): void {
  const e =
    api === 'v1'
      ? toTlogEntry(json, { service: 'rekor v1', url })
      : (json as ReturnType<typeof toTlogEntry>);
  const ack: Ack = {
    api,
    logIndex: Number(e.logIndex),
    artifact: a.toString('hex'),
    signature: sig.toString('base64'),
    body: e.canonicalizedBody,
    treeSize: Number(e.inclusionProof!.treeSize),
    rootHash: e.inclusionProof!.rootHash,
  };
  process.stdout.write(`${JSON.stringify({ ack })}\n`);
}

let token: string | undefined;
async function idToken(): Promise<string | undefined> {
  if (token) return token;
  const r = await post(
    'token',
    '/oidc/token',
    new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'sigstore',
      subject: 'dev@signet.local',
    }).toString(),
    { 'content-type': 'application/x-www-form-urlencoded' },
  );
  if (r.status === 200) token = (JSON.parse(r.text) as { id_token: string }).id_token;
  return token;
}

const ops: Record<string, () => Promise<number>> = {
  async v1() {
    const { artifact, digest, signature } = artifactAndSignature();
    const body = JSON.stringify(hashedrekordV001({ digest, signature, verifierPem: pem }));
    const r = await post('v1', '/rekor/api/v1/log/entries', body);
    if (r.status === 201) emitAck('v1', artifact, signature, JSON.parse(r.text));
    return r.status;
  },
  async v2() {
    const { artifact, digest, signature } = artifactAndSignature();
    const body = JSON.stringify(
      hashedrekordRequestV002({
        digest,
        signature,
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        publicKeyDer: spki,
      }),
    );
    const r = await post('v2', '/rekor/api/v2/log/entries', body);
    if (r.status === 201) emitAck('v2', artifact, signature, JSON.parse(r.text));
    return r.status;
  },
  async cert() {
    const t = await idToken();
    if (!t) return 0;
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const r = await post(
      'cert',
      '/fulcio/api/v2/signingCert',
      JSON.stringify({
        credentials: { oidcIdentityToken: t },
        publicKeyRequest: {
          publicKey: {
            algorithm: 'ECDSA',
            content: key.publicKey.export({ type: 'spki', format: 'pem' }),
          },
          proofOfPossession: sign(
            'sha256',
            Buffer.from('dev@signet.local'),
            key.privateKey,
          ).toString('base64'),
        },
      }),
    );
    if (r.status === 401) token = undefined; // expired: fetch another
    return r.status;
  },
  async tsa() {
    const r = await post(
      'tsa',
      '/tsa/api/v1/timestamp',
      JSON.stringify({
        artifactHash: createHash('sha256').update(randomBytes(16)).digest('base64'),
        hashAlgorithm: 'sha256',
      }),
    );
    return r.status;
  },
  async badtoken() {
    const r = await post(
      'badtoken',
      '/fulcio/api/v2/signingCert',
      JSON.stringify({ certificateSigningRequest: 'x' }),
      { 'content-type': 'application/json', authorization: 'Bearer not-a-jwt' },
    );
    return r.status;
  },
};

async function loop(kind: string): Promise<void> {
  const op = ops[kind];
  if (!op)
    throw new Error(`LOAD_MIX: unknown kind ${kind} (known: ${Object.keys(ops).join(', ')})`);
  while (!stopping) {
    const status = await op();
    // The stack is down or starting: do not spin.
    if (status === 0 || status === 503) await new Promise((r) => setTimeout(r, 50));
    else if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

if (!url) throw new Error('LOAD_URL is required');
process.on('SIGTERM', () => {
  stopping = true;
});
// The public key every log entry is signed with, for whoever checks the acknowledgements.
process.stdout.write(`${JSON.stringify({ key: pem })}\n`);
const running = mix.flatMap((k) => Array.from({ length: loops }, () => loop(k)));
await Promise.all(running);
process.stdout.write(`${JSON.stringify({ stats })}\n`);
