import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { parsePort } from '../flags.ts';
import type { VerifyFlags } from '../trust-flags.ts';
import { addRegistryFlags, registryOptions, type RegistryFlags } from '../registry-flags.ts';

interface AdmissionFlags extends RegistryFlags {
  policy?: string[];
  tlsCert?: string;
  tlsKey?: string;
  port: string;
  host: string;
  /** `--no-match-policy` (commander files a `--no-` option under the name without it). */
  matchPolicy: string;
  cacheTtl: string;
  celMemory?: string;
  trustedRoot?: string;
  server?: string;
  tufRoot?: string;
}

function seconds(v: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw invalid(flag, `"${v}" is not a number of seconds`);
  return Number(v) * 1000;
}

/** A whole number of MB, at least 16 (a condition's evaluator needs some room to start). */
function megabytes(v: string, flag: string): number {
  if (!/^\d{1,6}$/.test(v) || Number(v) < 16)
    throw invalid(flag, `"${v}" is not a whole number of MB of at least 16`);
  return Number(v);
}

/**
 * `signet admission`: the validating and mutating admission webhooks (client/policy/admission*.ts)
 * on HTTPS.
 * Runs until stopped; SIGTERM/SIGINT close it.
 */
export function registerAdmission(program: Command): void {
  const cmd = program
    .command('admission')
    .description(
      'serve Kubernetes admission webhooks (AdmissionReview v1): POST /validate applies policies to every image, POST /mutate pins tags to digests',
    )
    .option(
      '--policy <path>',
      'policy file or folder (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      '--tls-cert <file>',
      'the server certificate (PEM), as the webhook configuration trusts it',
    )
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--port <n>', 'port to listen on (0: any free port)', '8443')
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--no-match-policy <action>', 'images no policy covers: allow, warn or deny', 'deny')
    .option('--cache-ttl <seconds>', 'how long an allowed digest is remembered', '60')
    .option(
      '--timeout <seconds>',
      'upper bound on one review (the webhook timeout is also honoured)',
      '9',
    )
    .option(
      '--cel-memory <MB>',
      'how much memory one policy condition may build before it fails (default 256; lower it under a tight container limit)',
    )
    .option('--trusted-root <file>', 'trusted_root.json for authorities that name no trust root')
    .option('--server <url>', 'a Signet server to take that trusted root from (TUF)')
    .option('--tuf-root <file>', "pin the server's TUF root.json");
  addRegistryFlags(cmd).action(async (flags: AdmissionFlags) => {
    if (!flags.tlsCert) throw invalid('--tls-cert', 'is required: the webhook serves HTTPS');
    if (!flags.tlsKey) throw invalid('--tls-key', 'is required: the key of --tls-cert');
    const port = parsePort(flags.port, '--port');
    const { checkListenHost, listenFailed } = await import('../../services/http/listen-host.ts');
    const host = await checkListenHost(flags.host, '--host');
    const timeoutMs = seconds(flags.timeout ?? '9', '--timeout');
    const ttl = seconds(flags.cacheTtl, '--cache-ttl');
    const celMemoryMb = megabytes(flags.celMemory ?? '256', '--cel-memory');
    // Read and checked here (each file holds what its flag says; the key is the certificate's),
    // so a mix-up is one line naming the flag, not OpenSSL's text when the server starts.
    const { certificateAndKey } = await import('../tls-flags.ts');
    const { cert, key } = certificateAndKey(flags.tlsCert, flags.tlsKey, {
      cert: '--tls-cert',
      key: '--tls-key',
    });
    const p = await import('../../client/policy/index.ts');
    const { setEvaluatorMemoryLimit } = await import('../../client/policy/cel-sandbox.ts');
    setEvaluatorMemoryLimit(celMemoryMb);
    const noMatch = p.parseNoMatch(flags.matchPolicy, '--no-match-policy')!;
    const trust: VerifyFlags = {};
    if (flags.trustedRoot !== undefined) trust.trustedRoot = flags.trustedRoot;
    if (flags.server !== undefined) trust.server = flags.server;
    if (flags.tufRoot !== undefined) trust.tufRoot = flags.tufRoot;
    const policies = await p.loadPolicySet(flags.policy ?? [], trust);
    // Registry requests share the review's budget.
    const registry = registryOptions({ ...flags, timeout: String(timeoutMs / 1000) });
    const controller = new p.AdmissionController({
      policies,
      images: p.registryEvidence(policies, registry),
      noMatch,
      cacheTtlMs: ttl,
      timeoutMs,
    });
    let server;
    try {
      server = await p.startAdmissionServer({
        controller,
        cert,
        key,
        port,
        host,
        log: (m) => process.stderr.write(`${m}\n`),
      });
    } catch (e) {
      // listen() failing is the address's or the port's fault; anything else, the certificate's.
      const syscall = (e as NodeJS.ErrnoException).syscall;
      if (syscall === 'listen' || syscall === 'getaddrinfo')
        throw listenFailed(e, host, port, { host: '--host', port: '--port' });
      throw invalid('--tls-cert', `cannot serve HTTPS: ${(e as Error).message}`, e);
    }
    // On every address the URL shows one of them (the loopback one); say that others reach it.
    const { isWildcardHost } = await import('../../services/exposure.ts');
    const where = isWildcardHost(host) ? `listening on every address (--host ${host}), ` : '';
    process.stdout.write(
      `signet admission is up at ${server.url}/validate and ${server.url}/mutate (${where}${policies.length} polic${policies.length === 1 ? 'y' : 'ies'}, no-match-policy ${noMatch})\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await server.close();
  });
}
