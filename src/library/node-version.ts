import { SignetError } from '../core/errors.ts';

/**
 * Imported first by the library's entry (src/index.ts), so that on a Node.js older than the
 * package's engines (22.18) `import 'signet'` fails with one clear error rather than a later
 * `Promise.withResolvers is not a function` from inside a sign or verify. The CLI does not load
 * this: its entry says the same (cli/entry.ts).
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18))
  throw new SignetError(
    'unsupported',
    'UNSUPPORTED',
    `signet needs Node.js 22.18 or later; this is ${process.versions.node}`,
  );
