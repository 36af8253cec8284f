/**
 * `table[key]` for a key that came from input: own properties only, so a name such as
 * `constructor`, `toString` or `__proto__` never finds a member of Object.prototype (a bundle
 * whose media type is "constructor" is not of some version; a resource named "toString" has
 * no pod spec).
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
