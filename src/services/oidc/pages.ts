/**
 * The provider's few HTML pages (login, device approval, done, error). Every interpolated value
 * is escaped; there is no script. The login has no password: this provider is for local use
 * and tests, where choosing a configured identity is the point.
 */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
button{display:block;width:100%;margin:.4rem 0;padding:.6rem;font-size:1rem;text-align:left}
.err{color:#a00}</style></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

export function loginPage(opts: {
  action: string;
  issuer: string;
  clientId: string;
  hidden: Record<string, string>;
  identities: string[];
}): string {
  const hidden = Object.entries(opts.hidden)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
  const buttons = opts.identities
    .map((n) => `<button type="submit" name="identity" value="${esc(n)}">${esc(n)}</button>`)
    .join('\n');
  return page(
    'Sign in to Signet',
    `<p><b>${esc(opts.clientId)}</b> asks who you are, as issued by <code>${esc(opts.issuer)}</code>.
Choose an identity:</p>
<form method="post" action="${esc(opts.action)}">
${hidden}
${buttons || '<p class="err">No identities of this kind are configured.</p>'}
</form>`,
  );
}

export function devicePage(opts: {
  action: string;
  userCode: string;
  identities: string[];
  error?: string;
}): string {
  const buttons = opts.identities
    .map(
      (n) =>
        `<button type="submit" name="identity" value="${esc(n)}">Approve as ${esc(n)}</button>`,
    )
    .join('\n');
  return page(
    'Approve a device',
    `${opts.error ? `<p class="err">${esc(opts.error)}</p>` : ''}
<form method="post" action="${esc(opts.action)}">
<label>Code shown on the device: <input name="user_code" value="${esc(opts.userCode)}" autocomplete="off"></label>
${buttons}
<button type="submit" name="deny" value="1">Deny</button>
</form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<p>${esc(message)}</p>`);
}
