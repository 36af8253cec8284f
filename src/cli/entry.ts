/**
 * Whether the module of `meta` is the program Node was started with (`signet`, `signet-gitsign`).
 * Node tells by `import.meta.main` from 22.18 (package.json engines). An older Node has no such
 * field, and an entry that trusted it would run nothing and exit 0: a CI step such as
 * `signet verify-blob ... && deploy` would pass with no check made. There the entry file says
 * which Node it needs and exits 1 instead.
 */
export function isEntry(meta: ImportMeta): boolean {
  const main = (meta as { main?: boolean }).main;
  if (main !== undefined) return main;
  const fs = process.getBuiltinModule('node:fs');
  const { fileURLToPath } = process.getBuiltinModule('node:url');
  const started = process.argv[1];
  let entry = false;
  try {
    entry =
      started !== undefined &&
      fs.realpathSync(started) === fs.realpathSync(fileURLToPath(meta.url));
  } catch {
    // not a file we can compare with: not the entry
  }
  if (entry) {
    process.stderr.write(
      `error: signet needs Node.js 22.18 or later; this is ${process.versions.node}\n`,
    );
    process.exitCode = 1;
  }
  return false;
}
