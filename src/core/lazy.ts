import { createRequire } from 'node:module';

// Made on first use too: most runs (verify IMAGE, sign-blob) load no lazy module at all.
let require: NodeJS.Require | undefined;

/**
 * A dependency loaded on first use, synchronously. For large modules that only some paths
 * reach (a schema library for readable names, a pure-JS curve for rare key types): a static
 * import would load them in every process, and short commands like `signet sign-blob` pay
 * tens of milliseconds of start-up for code they never run. Give the module's type with
 * `import type * as M from '...'` so nothing is loaded before the call.
 */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= (require ??= createRequire(import.meta.url))(specifier) as T);
}
