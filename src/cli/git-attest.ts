/**
 * `signet-gitsign attest`: gitsign's command of that name (internal/commands/attest), with its
 * flags: `-f/--filepath FILE` (a JSON predicate), `--type URI` (the predicate type; cosign's
 * short names are taken too) and `--objtype commit|tree` (default commit). HEAD's commit (or
 * its tree) gets a signed in-toto statement, kept on refs/attestations/commits (or trees) as
 * gitsign keeps it (client/git/attest.ts), with the Sigstore bundle beside the envelope, signed
 * keyless as commits are, with the same settings and credential cache, and logged. Prints the
 * attestation commit's ID.
 */
import { invalid } from '../core/errors.ts';
import type { SignContext } from '../client/sign/sign.ts';
import type { Io } from './git-program.ts';

/** How the program signs (git-program.ts): a sign-in, and `keep` for the credential cache. */
export type SignIn = () => Promise<{ ctx: SignContext; keep: () => Promise<void> }>;
const { parseArgs } = process.getBuiltinModule('node:util');
const path = process.getBuiltinModule('node:path');

const ATTEST_USAGE = `Usage: signet-gitsign attest -f FILE --type URI [--objtype commit|tree]

Sign an in-toto statement that HEAD's commit (or its tree) has the predicate in FILE (JSON),
and keep it on refs/attestations/commits (or refs/attestations/trees), as gitsign attest does.
`;

function options(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        filepath: { type: 'string', short: 'f' },
        type: { type: 'string' },
        objtype: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    // Node's message names the option ("Unknown option '--x'"); its advice is not ours.
    throw invalid('attest', (e as Error).message.split('. ')[0]!);
  }
  if (parsed.help) return undefined;
  const objtype = parsed.objtype ?? 'commit';
  if (objtype !== 'commit' && objtype !== 'tree')
    throw invalid('--objtype', `"${objtype}" is not commit or tree`);
  if (!parsed.filepath) throw invalid('--filepath', 'is required: the predicate file (JSON)');
  if (!parsed.type) throw invalid('--type', 'is required: the predicate type URI');
  return { file: parsed.filepath, type: parsed.type, kind: objtype as 'commit' | 'tree' };
}

/** Runs `attest`; resolves when the attestation is kept. */
export async function gitAttest(argv: string[], io: Io, signIn: SignIn): Promise<void> {
  const o = options(argv);
  if (!o) {
    io.stdout.write(ATTEST_USAGE);
    return;
  }
  const { predicateTypeOf } = await import('../client/sign/predicate.ts');
  const { readDocumentBytes } = await import('../client/file-or-url.ts');
  const attest = await import('../client/git/attest.ts');
  const predicateType = predicateTypeOf(o.type);
  const file = readDocumentBytes(o.file, '--filepath');
  const { requireRepository } = await import('../client/git/repo.ts');
  await requireRepository(io.cwd, 'signet-gitsign attest');
  const object = await attest.headObject(io.cwd, o.kind);
  const name = path.basename(o.file);
  await attest.checkAttestationName(io.cwd, o.kind, object, name);
  await attest.checkCanCommit(io.cwd);
  const statement = attest.gitStatement(o.kind, object, predicateType, file, '--filepath', o.file);
  const { ctx, keep } = await signIn();
  const { signEnvelope } = await import('../client/sign/sign.ts');
  const { INTOTO_PAYLOAD_TYPE } = await import('../core/intoto/index.ts');
  const bundle = await signEnvelope(statement, INTOTO_PAYLOAD_TYPE, ctx);
  await keep();
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error('no envelope was signed');
  const { envelopeToJSON } = await import('../core/dsse/index.ts');
  const { serializeBundle } = await import('../bundle/bundle.ts');
  // The envelope alone as gitsign keeps it, and the whole bundle beside it (offline checks).
  const commit = await attest.storeAttestation(
    io.cwd,
    o.kind,
    object,
    name,
    file,
    JSON.stringify(envelopeToJSON(bundle.content.dsseEnvelope)),
    serializeBundle(bundle),
  );
  for (const e of bundle.verificationMaterial.tlogEntries)
    io.stderr.write(`tlog entry created with index: ${e.logIndex}\n`);
  io.stdout.write(`${commit}\n`);
}
