/**
 * C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional marks,
 * embeddings, overrides and isolates (Unicode TR 9): what can end a line, move the cursor,
 * start a terminal escape sequence or reorder what a reader sees.
 */
const UNPRINTABLE =
  // eslint-disable-next-line no-control-regex -- matching them is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every unprintable character (see UNPRINTABLE) written as a JSON-style `\uXXXX`
 * escape. Error messages quote untrusted values (a registry's media type, a token's claim, a
 * field name of a bundle); printed raw, a newline splits the one-line error and an escape
 * sequence or a carriage return lets the input rewrite what the terminal shows.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** printable() of each line of `text`: a report's lines stay lines, each shown as it is. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
