/**
 * The README's shell blocks, for the tests that run them as a new user would (readme-images,
 * readme-airgap).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';

export const readme = fs.readFileSync('README.md', 'utf8');

/** The text of the first ```sh block after `heading` (and `after` characters past it). */
export function blockText(heading: string, after = 0): string {
  const start = readme.indexOf(heading);
  assert.ok(start >= 0, `README has no "${heading}"`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(start + after));
  assert.ok(m, `no sh block after "${heading}"`);
  return m[1]!;
}

/** The lines of the first ```sh block after `heading` (whole-line comments and blank lines dropped). */
export function block(heading: string, after = 0): string[] {
  return commandLines(blockText(heading, after));
}

/** The lines of a block's text that are commands (whole-line comments and blank lines dropped). */
export function commandLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !/^\s*#/.test(l));
}
