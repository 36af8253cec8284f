// The home page: check a dropped bundle with the stack's verifier, and follow the log's status.
import { el, getJson, isoTime } from './dom.js';

const MAX_BUNDLE = 16 * 1024 * 1024; // client/verify/setup.ts MAX_DOCUMENT_BYTES
const MAX_ARTIFACT_SENT = 8 * 1024 * 1024; // larger files are hashed here and sent as a digest
const MAX_ARTIFACT_HASHED = 512 * 1024 * 1024;

const form = document.getElementById('bundle-form');
const bundleInput = document.getElementById('bundle-file');
const artifactInput = document.getElementById('artifact-file');
const result = document.getElementById('bundle-result');

const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function show(kind, ...children) {
  result.className = kind;
  result.replaceChildren(...children);
  result.dataset.state = kind;
}

function readAs(file, how) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () =>
      reject(new Error(`${file.name} cannot be read: ${r.error?.message ?? 'unknown error'}`));
    if (how === 'text') r.readAsText(file);
    else if (how === 'dataurl') r.readAsDataURL(file);
    else r.readAsArrayBuffer(file);
  });
}

/** Is this file a bundle? (Parsed JSON with a Sigstore bundle media type.) */
async function looksLikeBundle(file) {
  if (file.size > MAX_BUNDLE) return false;
  try {
    const v = JSON.parse(await readAs(file, 'text'));
    return (
      typeof v === 'object' &&
      v !== null &&
      typeof v.mediaType === 'string' &&
      v.mediaType.includes('sigstore.bundle')
    );
  } catch {
    return false;
  }
}

async function check(bundle, artifact) {
  if (!bundle) return show('bad', el('p', {}, 'Choose or drop a bundle file first.'));
  if (bundle.size > MAX_BUNDLE)
    return show(
      'bad',
      el(
        'p',
        { class: 'verdict' },
        `error: ${bundle.name} is ${mib(bundle.size)}; a bundle is at most 16 MiB, so it was not sent.`,
      ),
    );
  if (artifact && artifact.size > MAX_ARTIFACT_HASHED)
    return show(
      'bad',
      el(
        'p',
        { class: 'verdict' },
        `error: ${artifact.name} is ${mib(artifact.size)}, too large to hash in the browser (at most 512 MiB); verify it with signet verify-blob.`,
      ),
    );
  show('pending', el('p', {}, `Checking ${bundle.name}…`));
  try {
    const req = { bundle: await readAs(bundle, 'text'), bundleName: bundle.name };
    if (artifact) {
      if (artifact.size <= MAX_ARTIFACT_SENT) {
        const url = await readAs(artifact, 'dataurl');
        req.artifact = { name: artifact.name, base64: url.slice(url.indexOf(',') + 1) };
      } else {
        const digest = new Uint8Array(
          await crypto.subtle.digest('SHA-256', await readAs(artifact, 'buffer')),
        );
        req.artifact = {
          name: artifact.name,
          digest: `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`,
        };
      }
    }
    const r = await fetch('/explorer/api/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
    });
    const body = await r.json().catch(() => null);
    if (!r.ok)
      return show(
        'bad',
        el(
          'p',
          { class: 'verdict' },
          `error: ${body?.message ?? `the stack answered ${r.status}`}`,
        ),
      );
    const parts = [el('p', { class: 'verdict' }, body.verdict)];
    if (body.signer) {
      const who = body.signer.identities.length
        ? body.signer.identities.join(', ')
        : '(no identity)';
      parts.push(
        el(
          'p',
          { class: 'signer' },
          body.signer.verified ? 'Signed by ' : 'The bundle claims to be signed by ',
          el('strong', {}, who),
          ` (OIDC issuer ${body.signer.issuer ?? 'unknown'})`,
          body.signer.verified ? ': verified.' : ': NOT verified.',
        ),
      );
    }
    if (body.notes?.length) parts.push(el('pre', { class: 'notes' }, body.notes.join('\n')));
    show(body.ok ? 'ok' : 'bad', ...parts);
  } catch (e) {
    show(
      'bad',
      el('p', { class: 'verdict' }, `error: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  check(bundleInput.files[0], artifactInput.files[0]);
});
form.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  form.classList.add('over');
});
form.addEventListener('dragleave', () => form.classList.remove('over'));
form.addEventListener('drop', async (ev) => {
  ev.preventDefault();
  form.classList.remove('over');
  const files = [...(ev.dataTransfer?.files ?? [])];
  if (files.length === 0) return;
  if (files.length > 2)
    return show(
      'bad',
      el(
        'p',
        { class: 'verdict' },
        `error: ${files.length} files were dropped; drop a bundle and at most one signed file.`,
      ),
    );
  let bundle = files[0];
  let artifact = files[1];
  if (files.length === 2 && !(await looksLikeBundle(files[0])) && (await looksLikeBundle(files[1])))
    [bundle, artifact] = [files[1], files[0]];
  await check(bundle, artifact);
});

// Log status: poll while the page is visible; one request at a time.
const shardsBox = document.getElementById('shards');
const latestTable = document.getElementById('latest');
const statusTime = document.getElementById('status-time');
const seen = new Set(
  [...document.querySelectorAll('#latest tbody tr')].map((tr) => tr.dataset.uuid),
);

/** The same words as the server's page (pages.ts cosignatureText). */
function cosignatureText(c) {
  return c.verifiedAt === undefined
    ? `${c.name} (key ${c.keyId}), not verified: not a witness of this stack`
    : `${c.name} (key ${c.keyId}), verified, cosigned ${isoTime(c.verifiedAt)}`;
}

function shardCard(s) {
  return el(
    'article',
    { class: 'shard', 'data-shard': String(s.id) },
    el(
      'h3',
      {},
      `Shard ${s.id} `,
      el('span', { class: s.active ? 'badge ok' : 'badge' }, s.active ? 'active' : 'frozen'),
    ),
    el(
      'dl',
      {},
      el('dt', {}, 'Tree size'),
      el('dd', { class: 'tree-size' }, s.treeSize),
      el('dt', {}, 'Entries in the last minute'),
      el('dd', { class: 'rate' }, s.entriesLastMinute),
      el('dt', {}, 'Root hash'),
      el('dd', { class: 'hex root' }, s.rootHash),
      el('dt', {}, 'Origin'),
      el('dd', { class: 'wrap' }, s.origin),
      el('dt', {}, 'Cosignatures'),
      el(
        'dd',
        { class: 'cosignatures' },
        s.cosignatures.length ? s.cosignatures.map(cosignatureText).join('; ') : 'none yet',
      ),
    ),
    el(
      'details',
      {},
      el('summary', {}, `Latest checkpoint (tree size ${s.checkpointSize})`),
      el('pre', { class: 'checkpoint' }, s.checkpoint),
    ),
  );
}

function entryRow(e) {
  const row = el(
    'tr',
    { 'data-uuid': e.uuid },
    el('td', {}, el('a', { href: `/entry/${e.uuid}` }, e.logIndex)),
    el('td', {}, isoTime(e.integratedTime)),
    el('td', {}, `${e.kind} ${e.apiVersion}`),
    el(
      'td',
      { class: 'wrap' },
      e.signer,
      // The same mark as the server's list (pages.ts untrustedMark).
      e.issuedByTrustedCa === false
        ? el('span', { class: 'badge bad untrusted' }, "not from this stack's CA")
        : null,
    ),
    el('td', { class: 'hex' }, e.digest ?? '—'),
  );
  if (!seen.has(e.uuid)) {
    row.classList.add('new');
    seen.add(e.uuid);
  }
  return row;
}

async function refresh() {
  if (document.hidden) return;
  const s = await getJson('/explorer/api/status');
  shardsBox.replaceChildren(...s.shards.slice().reverse().map(shardCard));
  statusTime.textContent = `as of ${isoTime(s.now)}`;
  if (latestTable) latestTable.tBodies[0].replaceChildren(...s.latest.map(entryRow));
  else if (s.latest.length > 0) location.reload(); // the first entry: the page gains its table
}

async function poll() {
  try {
    await refresh();
    statusTime.classList.remove('stale');
  } catch {
    statusTime.classList.add('stale'); // keep the last status; try again
  }
  setTimeout(poll, 2000);
}
setTimeout(poll, 2000);
