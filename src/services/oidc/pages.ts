import { esc } from '../http/html.ts';
import type { Flavor } from './flavors.ts';

/**
 * The provider's few HTML pages (login, device approval, messages). Every interpolated value
 * is escaped; there is no script (the CSP forbids it), only inline CSS. The login has no
 * password: this provider is for local use and tests, where choosing a configured identity is
 * the point.
 */

/** What each flavor's identities are, in words, next to each choice. */
const KIND: Record<Flavor, string> = {
  email: 'Email address',
  github: 'GitHub Actions workflow',
  gitlab: 'GitLab CI pipeline',
  buildkite: 'Buildkite job',
  spiffe: 'SPIFFE workload',
  kubernetes: 'Kubernetes service account',
  uri: 'URI',
  username: 'User name',
};

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;background:#f3f4f6;color:#111827;
 font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 display:flex;align-items:flex-start;justify-content:center;padding:4rem 1rem}
main{background:#fff;width:100%;max-width:28rem;border:1px solid #e5e7eb;border-radius:12px;
 box-shadow:0 1px 3px rgba(0,0,0,.08);padding:2rem}
.brand{margin:0 0 1rem;font-size:.8rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:#4b5563}
h1{margin:0 0 .75rem;font-size:1.5rem;line-height:1.25}
p{margin:0 0 1rem}
.muted{color:#4b5563;font-size:.875rem}
code{font:.85em ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f4f6;padding:.1em .3em;border-radius:4px;overflow-wrap:anywhere}
fieldset{border:0;margin:0 0 1.25rem;padding:0}
legend{font-weight:600;margin-bottom:.5rem;padding:0}
.choice{display:flex;gap:.75rem;align-items:flex-start;padding:.75rem;margin-bottom:.5rem;
 border:1px solid #d1d5db;border-radius:8px;cursor:pointer}
.choice:hover{border-color:#9ca3af}
.choice:has(input:checked){border-color:#2563eb;background:#eff6ff}
.choice input{margin-top:.3rem}
.choice small{display:block;color:#4b5563}
.name{font-weight:600;overflow-wrap:anywhere}
.actions{display:flex;gap:.75rem}
button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border-radius:8px;border:1px solid transparent;cursor:pointer}
.primary{background:#2563eb;color:#fff}
.primary:hover{background:#1d4ed8}
.secondary{background:#fff;color:#374151;border-color:#d1d5db}
.secondary:hover{background:#f9fafb}
label.code{display:block;font-weight:600;margin-bottom:1rem}
label.code input{display:block;width:100%;margin-top:.4rem;padding:.5rem .75rem;font:1.4rem ui-monospace,monospace;
 letter-spacing:.15em;text-transform:uppercase;border:1px solid #d1d5db;border-radius:8px}
.err{color:#991b1b;background:#fef2f2;border:1px solid #fecaca;border-radius:8px;padding:.6rem .75rem}
footer{margin-top:1.5rem;border-top:1px solid #e5e7eb;padding-top:.75rem}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Signet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body><main>
<p class="brand">Signet identity provider</p>
<h1>${esc(title)}</h1>
${body}
</main></body></html>
`;
}

export interface Choice {
  name: string;
  flavor: Flavor;
}

function choices(identities: Choice[], legend: string): string {
  if (identities.length === 0)
    return '<p class="err">No identities of this kind are configured on this provider.</p>';
  const items = identities
    .map(
      (c, i) => `<label class="choice"><input type="radio" name="identity" value="${esc(c.name)}"${
        i === 0 ? ' checked' : ''
      } required>
<span><span class="name">${esc(c.name)}</span><small>${esc(KIND[c.flavor])}</small></span></label>`,
    )
    .join('\n');
  return `<fieldset><legend>${esc(legend)}</legend>
${items}
</fieldset>`;
}

/** Where the browser goes back to, for the person: the redirect URI's origin. */
function destination(redirectUri: string): string {
  try {
    return new URL(redirectUri).origin;
  } catch {
    return redirectUri;
  }
}

export function loginPage(opts: {
  action: string;
  issuer: string;
  clientId: string;
  redirectUri: string;
  login: string;
  identities: Choice[];
}): string {
  const none = opts.identities.length === 0;
  return page(
    'Sign in',
    `<p>The application <b>${esc(opts.clientId)}</b> asks who you are. Your choice is sent back to
<code>${esc(destination(opts.redirectUri))}</code> as a signed identity token.</p>
<form method="post" action="${esc(opts.action)}">
<input type="hidden" name="login" value="${esc(opts.login)}">
${choices(opts.identities, 'Choose an identity')}
<div class="actions">
${none ? '' : '<button type="submit" class="primary" name="continue" value="1">Sign in</button>\n'}<button type="submit" class="secondary" name="cancel" value="1" formnovalidate>Cancel</button>
</div>
</form>
<footer class="muted">Issuer: <code>${esc(opts.issuer)}</code></footer>`,
  );
}

export function devicePage(opts: {
  action: string;
  issuer: string;
  userCode: string;
  identities: Choice[];
  error?: string;
}): string {
  return page(
    'Approve a device',
    `${opts.error ? `<p class="err" role="alert">${esc(sentence(opts.error))}</p>\n` : ''}<p>A device or command line asks to sign in as you. Check that the code below is the one it shows, then choose who it may act as.</p>
<form method="post" action="${esc(opts.action)}">
<label class="code">Code shown on the device
<input name="user_code" value="${esc(opts.userCode)}" autocomplete="off" spellcheck="false" placeholder="XXXX-XXXX" required></label>
${choices(opts.identities, 'Approve as')}
<div class="actions">
${opts.identities.length ? '<button type="submit" class="primary" name="approve" value="1">Approve</button>\n' : ''}<button type="submit" class="secondary" name="deny" value="1" formnovalidate>Deny</button>
</div>
</form>
<footer class="muted">Issuer: <code>${esc(opts.issuer)}</code></footer>`,
  );
}

/** Messages shared with the JSON API start in lower case; a page shows them as sentences. */
function sentence(message: string): string {
  // "unknown client_id" reads as a sentence; "redirect_uri ..." names a parameter: keep it.
  const s = /^[a-z]+(\s|$)/.test(message)
    ? message.charAt(0).toUpperCase() + message.slice(1)
    : message;
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export function messagePage(title: string, message: string): string {
  return page(title, `<p>${esc(sentence(message))}</p>`);
}
