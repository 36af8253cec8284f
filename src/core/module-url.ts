/**
 * The URL of another module of this package, for a Worker or a child process: written with its
 * `.ts` name in the sources, it becomes `.js` when the caller itself runs compiled (dist/, the
 * installed package), where tsc's import rewriting does not reach string URLs.
 */
export function moduleUrl(relative: string, base: string): URL {
  const compiled = !new URL(base).pathname.endsWith('.ts');
  return new URL(compiled ? relative.replace(/\.ts$/, '.js') : relative, base);
}
