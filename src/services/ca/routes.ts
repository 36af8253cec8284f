import type { FastifyInstance } from 'fastify';
import { grpcGatewayErrors } from '../http/errors.ts';
import { readBodiesAsJson } from '../http/json-body.ts';
import { batchedPerTurn } from '../http/turn-batch.ts';
import type { CertificateAuthority } from './issuer.ts';
import type { OidcIssuerInfo } from './identity/types.ts';
import {
  parseLegacySigningCertRequest,
  parseSigningCertRequest,
  type SigningCertRequest,
} from './request.ts';

/** Fulcio's request cap (`maxMsgSize = 1<<22`). */
const BODY_LIMIT = 4 * 1024 * 1024;

/** Fulcio v2 HTTP API (servers.md 1.1) under the service prefix (`/fulcio` in `signet up`). */
export async function registerCaRoutes(
  app: FastifyInstance,
  ca: CertificateAuthority,
  issuers: () => OidcIssuerInfo[],
): Promise<void> {
  readBodiesAsJson(app);
  // Fulcio's HTTP API is grpc-gateway: its errors are google.rpc.Status JSON.
  grpcGatewayErrors(app);
  // The certificates asked for in one event-loop turn are checked and signed together, up to
  // their CT log entry (http/turn-batch.ts).
  const issue = batchedPerTurn((r: SigningCertRequest) => ca.issue(r));
  app.post('/api/v2/signingCert', { bodyLimit: BODY_LIMIT }, async (req, reply) => {
    const parsed = parseSigningCertRequest(req.body, req.headers.authorization);
    const issued = await issue(parsed);
    return reply.code(200).send(issued.json);
  });
  app.get('/api/v2/trustBundle', async () => ca.trustBundle());
  // Deprecated v1 API (older cosign): PEM chain, leaf first, HTTP 201.
  app.post('/api/v1/signingCert', { bodyLimit: BODY_LIMIT }, async (req, reply) => {
    const parsed = parseLegacySigningCertRequest(req.body, req.headers.authorization);
    const issued = await issue(parsed);
    const json = issued.json;
    const chain =
      'signedCertificateEmbeddedSct' in json
        ? json.signedCertificateEmbeddedSct.chain.certificates
        : json.signedCertificateDetachedSct.chain.certificates;
    return reply.code(201).type('application/pem-certificate-chain').send(chain.join(''));
  });
  app.get('/api/v1/rootCert', async (_req, reply) =>
    reply
      .type('application/pem-certificate-chain')
      .send(ca.trustBundle().chains[0]!.certificates.join('')),
  );
  app.get('/api/v2/configuration', async () => ({ issuers: issuers() }));
}
