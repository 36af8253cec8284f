/**
 * Flag handling shared by every command: cosign's boolean syntax (`--flag`, `--flag=false`),
 * deprecated flags that are accepted with cosign's warning, integers, and SIGNET_SERVER as the
 * default of `--server`. Commands of other features use these so that a cosign user's
 * command line behaves the same everywhere.
 */
import { Option, type Command } from './commander.ts';
import { invalid } from '../core/errors.ts';

/** Go's strconv.ParseBool, which cobra uses for `--flag=VALUE`. */
export function parseBool(text: string, flag: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  throw invalid(flag, `"${text}" is not true or false`);
}

/**
 * A cosign boolean flag: `--name` alone is true, `--name=false` sets it false (main rewrites
 * `--name=VALUE` for boolean flags before commander parses, see boolArgs), as cobra reads it.
 * A separate value (`--name false`) is not taken, as in cobra: the next word stays an argument.
 */
export function addBool(
  cmd: Command,
  name: string,
  description: string,
  defaultValue = false,
): Command {
  cmd.addOption(new Option(`--${name}`, description).default(defaultValue));
  cmd.addOption(new Option(`--no-${name}`).hideHelp());
  return cmd;
}

/**
 * `--name=VALUE` for a boolean flag of `cmd` becomes `--name` or `--no-name`; anything else is
 * left for commander. Values are read as Go's strconv.ParseBool does. A boolean flag followed
 * by the word `true` or `false` (`--insecure-ignore-tlog false`) is refused: cobra, and so
 * commander here, would turn the flag on and take the word as an argument (a file named
 * "false"), the opposite of what was meant.
 */
export function boolArgs(cmd: Command, argv: string[]): string[] {
  const options = cmd.options.filter((o) => o.isBoolean() && o.long && !o.negate);
  const bools = new Set(options.map((o) => o.long!));
  // Each boolean flag's spellings (`-y` too), to the long name its `=VALUE` form takes.
  const longOf = new Map(
    options.flatMap((o) => [o.long, o.short].flatMap((n) => (n ? [[n, o.long!] as const] : []))),
  );
  const end = argv.indexOf('--');
  return argv.map((a, i) => {
    const next = argv[i + 1];
    const long = longOf.get(a);
    if (long && next !== undefined && (end === -1 || i < end) && /^(true|false)$/i.test(next))
      throw invalid(
        a,
        `is followed by "${next}": a boolean flag takes its value after "=" (${long}=${next.toLowerCase()}); alone it means true, and "${next}" would be read as an argument (a file of that name is ./${next})`,
      );
    const m = /^(--[A-Za-z0-9-]+)=(.*)$/s.exec(a);
    if (!m || !bools.has(m[1]!)) return a;
    return parseBool(m[2]!, m[1]!) ? m[1]! : `--no-${m[1]!.slice(2)}`;
  });
}

/** A positive integer flag (e.g. `--max-workers`). */
export function intOption(name: string, description: string, defaultValue?: number): Option {
  const o = new Option(`--${name} <n>`, description).argParser((v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw invalid(`--${name}`, `"${v}" is not a positive whole number`);
    return Number(v);
  });
  return defaultValue === undefined ? o : o.default(defaultValue);
}

const DEPRECATED = new WeakMap<Command, Map<string, string>>();

/**
 * Mark `--name` deprecated: still accepted, and when used cosign's (pflag's) warning is printed
 * on stderr: `Flag --name has been deprecated, <message>`.
 */
export function deprecate(cmd: Command, name: string, message: string): Command {
  let m = DEPRECATED.get(cmd);
  if (!m) {
    m = new Map();
    DEPRECATED.set(cmd, m);
    cmd.hook('preAction', (_this, action) => {
      for (const [flag, msg] of DEPRECATED.get(action) ?? [])
        if (action.getOptionValueSource(camel(flag)) === 'cli')
          process.stderr.write(`Flag --${flag} has been deprecated, ${msg}\n`);
    });
  }
  m.set(name, message);
  return cmd;
}

/** The deprecated flags of a command and their messages (for tests and `--help`). */
export function deprecatedFlags(cmd: Command): ReadonlyMap<string, string> {
  return DEPRECATED.get(cmd) ?? new Map();
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `--server URL`, defaulting to SIGNET_SERVER (read when the command runs, not at startup). */
export function serverOption(description: string): Option {
  return new Option('--server <url>', `${description} (env SIGNET_SERVER)`);
}

/** The `--server` a command should use: the flag, else SIGNET_SERVER unless `other` was given. */
export function serverFrom(
  flag: string | undefined,
  other: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (flag !== undefined) return flag;
  if (other !== undefined) return undefined;
  return env.SIGNET_SERVER || undefined;
}

/**
 * cosign's key references that hold no key themselves (a KMS, a Vault, a Kubernetes secret, a
 * PKCS#11 token, a GitLab variable): Signet signs and verifies with keys it can read (a file,
 * an http(s) URL, `env://VAR`: client/file-or-url.ts), so such a `--key` is refused with the
 * reason rather than looked for as a file of that name. A PKCS#11 URI is RFC 7512's
 * `pkcs11:token=...;object=...` (what cosign takes), with no `//`; `pkcs11://` is refused too.
 */
export function refuseKeyReference(key: string | undefined, flag = '--key'): void {
  if (key === undefined) return;
  const m = /^(?:(awskms|gcpkms|azurekms|hashivault|k8s|gitlab):\/\/|(pkcs11):)/i.exec(key);
  if (!m) return;
  const scheme = m[1] !== undefined ? `${m[1]}://` : `${m[2]}:`;
  throw invalid(
    flag,
    // The scheme after no article: "a awskms://" read wrong, and a/an would go by its sound.
    `${key} is a key reference (${scheme}), cosign's way to a KMS, Vault, Kubernetes, PKCS#11 or GitLab key; Signet takes a key file, an http(s) URL or env://VAR: export the key to a PEM file (for verifying, its public key), or sign keyless`,
  );
}
