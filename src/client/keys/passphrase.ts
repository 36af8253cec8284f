import { SignetError } from '../../core/errors.ts';

/**
 * Where a key passphrase comes from, as in cosign: the COSIGN_PASSWORD environment variable
 * (may be empty: an empty passphrase is allowed), else an interactive prompt on the terminal
 * (without echo). With no terminal and no variable, a clear error instead of hanging.
 */
export async function readPassphrase(opts: {
  confirm?: boolean;
  env?: NodeJS.ProcessEnv;
  prompt?: string;
}): Promise<Uint8Array> {
  const env = opts.env ?? process.env;
  const fromEnv = env.COSIGN_PASSWORD;
  if (fromEnv !== undefined) return new TextEncoder().encode(fromEnv);
  if (!process.stdin.isTTY)
    throw new SignetError(
      'invalid-input',
      'NO_PASSPHRASE',
      'a passphrase is needed for the private key: set COSIGN_PASSWORD or run in a terminal',
      { field: 'COSIGN_PASSWORD' },
    );
  const first = await promptHidden(opts.prompt ?? 'Enter password for private key: ');
  if (opts.confirm) {
    const again = await promptHidden('Enter password for private key again: ');
    if (again !== first)
      throw new SignetError('invalid-input', 'PASSPHRASE_MISMATCH', 'the passwords do not match');
  }
  return new TextEncoder().encode(first);
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
