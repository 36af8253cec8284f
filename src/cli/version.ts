const fs = process.getBuiltinModule('node:fs');

/** The package version, read from package.json next to src/ (or dist/ when installed). */
export function signetVersion(): string {
  try {
    const pkg = JSON.parse(
      fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
