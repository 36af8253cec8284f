/**
 * Loaded first by bin/signet and bin/signet-gitsign (`node --import`): resolves the relative
 * imports among Signet's own modules by URL alone.
 *
 * Node's resolver, for every `import './x.ts'`, stats the file, takes its real path and walks
 * up to the nearest package.json for its module type. Signet's own tree has no symlinks, one
 * package.json ("type": "module") and only explicit file extensions, so for those imports all
 * that work gives back the URL joined to the importer's: measured on `signet sign-blob`
 * against a local stack (about 100 modules), 10 ms of a 100 ms run. Anything else — packages,
 * builtins, imports from or into node_modules — goes to Node's resolver unchanged; test/cli/
 * fast-resolve.test.ts checks that every import in src/ resolves here as Node resolves it.
 *
 * On a Node without module.registerHooks (before 22.15) this does nothing, so the entry point
 * still gets to say which Node it needs (cli/entry.ts).
 */
import nodeModule from 'node:module';

/** The folder of Signet's modules (src/, or dist/ when installed), as a URL prefix. */
const ownTree = new URL('../', import.meta.url).href;

/** The module format of a file of ours, by its extension (package.json says "module"). */
const FORMATS: Readonly<Record<string, string>> = { '.ts': 'module-typescript', '.js': 'module' };

/** The URL and format of a relative import between two of our modules, else undefined. */
export function ownImport(
  specifier: string,
  parentURL: string | undefined,
): { url: string; format: string } | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  if (parentURL === undefined || !parentURL.startsWith(ownTree)) return undefined;
  const format = FORMATS[specifier.slice(specifier.lastIndexOf('.'))];
  if (format === undefined) return undefined;
  const url = new URL(specifier, parentURL).href;
  // Only imports that stay inside our tree (a `../` past it is left to Node).
  return url.startsWith(ownTree) ? { url, format } : undefined;
}

const { registerHooks } = nodeModule as Partial<typeof nodeModule>;
registerHooks?.({
  resolve(specifier, context, nextResolve) {
    const own = ownImport(specifier, context.parentURL);
    return own ? { ...own, shortCircuit: true } : nextResolve(specifier, context);
  },
});
