import { visible } from '../../core/encoding/printable.ts';

/**
 * HTML built from templates whose every interpolated value is escaped, unless it is itself
 * built HTML: markup cannot enter a page through data (a search term, a certificate field, a
 * log entry), only through the templates. Nor can data hide or reorder text: see `visible` (core/encoding/printable.ts).
 */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A fragment of HTML made by `html` (trusted, as the template is). */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

function render(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(visible(String(v)));
}

/**
 * Tagged template: `html\`<b>${name}</b>\`` escapes `name` (and makes it `visible`); nested
 * `html` fragments stay.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}
