/**
 * How errors name a caller's inputs. Code the CLI and the library share (trust, signing setup,
 * the verifier) names each input by its CLI flag unless its caller names it otherwise: the
 * library passes its own names (src/library/names.ts), so its users read `options.trustedRoot`
 * where the CLI says `--trusted-root`, from the one message.
 */
export type InputNames<K extends string> = { readonly [k in K]?: string | undefined };

/** The CLI's names (`defaults`), with the names the caller gave over them. */
export function inputNames<K extends string>(
  defaults: Readonly<Record<K, string>>,
  given: InputNames<K> | undefined,
): Readonly<Record<K, string>> {
  if (given === undefined) return defaults;
  const out: Record<K, string> = { ...defaults };
  for (const k of Object.keys(defaults) as K[]) {
    const v = given[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}
