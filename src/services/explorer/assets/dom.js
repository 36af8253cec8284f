// Small DOM helpers for the explorer pages. Text goes in through textContent only, never as
// markup: nothing a log entry, a bundle or a search term holds can become HTML. Nor can it hide
// or reorder text: characters that would not show as themselves are written as codes.

/** As the server writes pages (core/encoding/printable.ts `visible`): U+202E and its kind as [U+202E]. */
const HIDDEN = /(?![\n ])[\p{Cc}\p{Default_Ignorable_Code_Point}\p{Z}]/gu;

/** @param {string} s */
export function visible(s) {
  return s.replace(
    HIDDEN,
    (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`,
  );
}

/**
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {...(Node|string|number|null|undefined)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(
      typeof c === 'string' || typeof c === 'number'
        ? document.createTextNode(visible(String(c)))
        : c,
    );
  }
  return e;
}

/** Unix seconds as the pages print times: ISO 8601 UTC without milliseconds. */
export function isoTime(seconds) {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** GET JSON from the stack; a non-2xx answer throws its `message`. */
export async function getJson(path) {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await r.json().catch(() => null);
  if (!r.ok)
    throw new Error(body && body.message ? body.message : `the stack answered ${r.status}`);
  return body;
}
