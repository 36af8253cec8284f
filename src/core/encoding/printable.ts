/**
 * Characters that do not show as themselves: controls (C0, DEL, C1), the invisible ones
 * (Default_Ignorable_Code_Point: zero-width spaces and joiners, the soft hyphen, bidi marks,
 * overrides and isolates, variation selectors) and separators other than the plain space
 * (U+2028, U+2029, no-break and other spaces). A newline splits a one-line error, an escape
 * sequence or carriage return rewrites what a terminal shows, and in a certificate name U+202E
 * makes "\u202emoc.elpmaxe@ecila" render as alice@example.com.
 */
const HIDDEN = String.raw`[\p{Cc}\p{Default_Ignorable_Code_Point}\p{Z}]`;

// The two patterns are compiled on first use: V8 builds the Unicode property classes when it
// compiles them (0.7 ms), and every command loads this module while most runs print nothing
// untrusted.
let hiddenInLine: RegExp | undefined;
let hiddenInText: RegExp | undefined;

/** Every hidden character but the plain space. */
const HIDDEN_IN_LINE = (): RegExp => (hiddenInLine ??= new RegExp(`(?! )${HIDDEN}`, 'gu'));

/** Every hidden character but the plain space and the newline (text with lines). */
const HIDDEN_IN_TEXT = (): RegExp => (hiddenInText ??= new RegExp(`(?![\\n ])${HIDDEN}`, 'gu'));

/**
 * `text` with every hidden character written as a JSON-style `\uXXXX` escape (a UTF-16
 * surrogate pair above U+FFFF), so JSON text stays JSON. For errors and terminal reports: they
 * quote untrusted values (a registry's media type, a token's claim, a bundle's field name).
 */
export function printable(text: string): string {
  return text.replace(HIDDEN_IN_LINE(), (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

/** printable() of each line of `text`: a report's lines stay lines, each shown as it is. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/**
 * `text` with every hidden character but the newline written as `[U+XXXX]`: for pages, where
 * PEM, checkpoints and entry bodies keep their lines (services/http/html.ts).
 */
export function visible(text: string): string {
  return text.replace(
    HIDDEN_IN_TEXT(),
    (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`,
  );
}
