import { SignetError } from '../../core/errors.ts';
const fs = process.getBuiltinModule('node:fs');

/** More than this on standard input is not a passphrase (a file piped in by mistake). */
const MAX_PIPED_PASSPHRASE = 64 * 1024;

/**
 * Where a key passphrase comes from, as in cosign (generate_key_pair.go, readPasswordFn): the
 * COSIGN_PASSWORD environment variable (may be empty: an empty passphrase is allowed), else an
 * interactive prompt on the terminal (without echo), else, where `piped` allows it, everything
 * piped to standard input, as it is (`echo -n "$PW" | signet generate-key-pair`). `piped` is the
 * CLI's to give: not where standard input carries an artifact, never in the library (its
 * process's standard input is not its own). Otherwise a clear error instead of hanging.
 */
export async function readPassphrase(opts: {
  confirm?: boolean;
  env?: NodeJS.ProcessEnv;
  prompt?: string;
  piped?: boolean;
}): Promise<Uint8Array> {
  const env = opts.env ?? process.env;
  const fromEnv = env.COSIGN_PASSWORD;
  if (fromEnv !== undefined) return new TextEncoder().encode(fromEnv);
  if (!process.stdin.isTTY) {
    if (opts.piped) return readPiped();
    throw new SignetError(
      'invalid-input',
      'NO_PASSPHRASE',
      'a passphrase is needed for the private key: set COSIGN_PASSWORD or run in a terminal',
      { field: 'COSIGN_PASSWORD' },
    );
  }
  const first = await promptHidden(opts.prompt ?? 'Enter password for private key: ');
  if (opts.confirm) {
    const again = await promptHidden('Enter password for private key again: ');
    if (again !== first)
      throw new SignetError('invalid-input', 'PASSPHRASE_MISMATCH', 'the passwords do not match');
  }
  return new TextEncoder().encode(first);
}

/** All of standard input, byte for byte (cosign trims nothing either), up to the limit. */
function readPiped(): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(4096);
  try {
    for (let n; (n = fs.readSync(0, buf, 0, buf.length, null)) > 0;) {
      total += n;
      if (total > MAX_PIPED_PASSPHRASE)
        throw new SignetError(
          'invalid-input',
          'NO_PASSPHRASE',
          'standard input holds more than 64 KiB, which is not a passphrase: set COSIGN_PASSWORD',
          { field: 'COSIGN_PASSWORD' },
        );
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
  } catch (e) {
    if (e instanceof SignetError) throw e;
    // EAGAIN: a non-blocking terminal or socket; EOF-less inputs are the caller's choice.
    throw new SignetError(
      'invalid-input',
      'NO_PASSPHRASE',
      `cannot read a passphrase from standard input (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): set COSIGN_PASSWORD`,
      { field: 'COSIGN_PASSWORD', cause: e },
    );
  } finally {
    buf.fill(0);
  }
  const out = new Uint8Array(Buffer.concat(chunks));
  for (const c of chunks) c.fill(0);
  return out;
}

/** Read one line from the TTY without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003')
          return done(new SignetError('invalid-input', 'CANCELLED', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
