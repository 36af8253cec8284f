import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { OID, type X509Certificate } from '../../core/x509/certificate.ts';
import { html, Html } from '../http/html.ts';
import type { DigestOf, EntryDescription } from '../../core/rekor/index.ts';
import type {
  AttestationView,
  CaCheck,
  EntrySummary,
  EntryView,
  ShardStatus,
  SignerView,
  StatusView,
} from './view.ts';

/**
 * The explorer's pages, rendered on the server so an entry is readable at first paint and
 * without script; every value goes through `html` (escaped). The scripts under /explorer/ add
 * what must happen in the browser: the inclusion-proof check, dropping a bundle, live status.
 */

export const ASSET_PREFIX = '/explorer';

// The stylesheet goes inline, allowed by its hash in the page's CSP: no second request before
// the first paint, and still no inline style that the policy did not name.
const STYLE = fs.readFileSync(new URL('./assets/explorer.css', import.meta.url), 'utf8');
export const STYLE_SOURCE = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;
// Made outside the page template, whose layout prettier owns: the hash covers these exact bytes.
const STYLE_ELEMENT = new Html(`<style>${STYLE}</style>`);

/** Where an entry lives; `signet sign-blob` and `inspect` print the same form (client/explorer-link.ts). */
export function entryPath(uuid: string): string {
  return `/entry/${uuid}`;
}

const iso = (unixSeconds: number) =>
  new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
const isoDate = (d: Date) => d.toISOString().replace('.000Z', 'Z');

function searchLink(term: string, text?: string): Html {
  return html`<a href="/?q=${encodeURIComponent(term)}">${text ?? term}</a>`;
}

function layout(opts: {
  title: string;
  term?: string;
  main: Html;
  script?: string;
  status?: number;
}): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${opts.title} · Signet explorer</title>
        <link rel="icon" href="data:," />
        ${STYLE_ELEMENT}
        ${opts.script ? html`<script type="module" src="${ASSET_PREFIX}/${opts.script}"></script>` : ''}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <a class="brand" href="/">Signet explorer</a>
          <form class="search" role="search" action="/" method="get">
            <label for="q" class="sr-only">Search the log</label>
            <input
              id="q"
              name="q"
              type="search"
              value="${opts.term ?? ''}"
              autocomplete="off"
              spellcheck="false"
              placeholder="email, identity, sha256:…, key fingerprint, log index, UUID"
            />
            <button type="submit">Search</button>
          </form>
        </header>
        <main id="main" tabindex="-1">${opts.main}</main>
        <footer>
          <span>This page talks only to this Signet stack.</span>
          <a href="/trusted_root.json">Trusted root</a>
          <a href="/rekor/api/v1/log">Log info (JSON)</a>
        </footer>
      </body>
    </html> `.text;
}

/** After a signer's identity: its certificate is one anyone could have made (home.js: the same). */
function untrustedMark(s: EntrySummary): Html | '' {
  return s.issuedByTrustedCa === false
    ? html` <span class="badge bad untrusted">not from this stack's CA</span>`
    : '';
}

function caText(ca: CaCheck): Html {
  return ca.trusted
    ? html`<span class="badge ok">issued by this stack's CA</span> ${ca.ca}`
    : html`<span class="badge bad">not from this stack's CA</span> No CA of this stack's trusted
        root issued this certificate (${ca.reason}): anyone can make a certificate naming any
        identity and any OIDC issuer, so the identity below is only a claim, and no verifier accepts
        it.`;
}

function kindText(s: EntrySummary): string {
  return `${s.kind} ${s.apiVersion}`;
}

function entryTable(items: EntrySummary[], live = false): Html {
  if (items.length === 0) return html`<p class="muted">No entries yet.</p>`;
  return html`<div class="table-wrap">
    <table class="entries" ${live ? html` id="latest"` : ''}>
      <thead>
        <tr>
          <th scope="col">Index</th>
          <th scope="col">Logged (UTC)</th>
          <th scope="col">Kind</th>
          <th scope="col">Signed by</th>
          <th scope="col">Digest</th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (s) =>
            html`<tr data-uuid="${s.uuid}">
              <td><a href="${entryPath(s.uuid)}">${s.logIndex}</a></td>
              <td>${iso(s.integratedTime)}</td>
              <td>${kindText(s)}</td>
              <td class="wrap">${s.signer}${untrustedMark(s)}</td>
              <td class="hex">${s.digest ?? '—'}</td>
            </tr> `,
        )}
      </tbody>
    </table>
  </div>`;
}

/** A witness cosignature as the status shows it (home.js writes the same words). */
function cosignatureText(c: ShardStatus['cosignatures'][number]): string {
  return c.verifiedAt === undefined
    ? `${c.name} (key ${c.keyId}), not verified: not a witness of this stack`
    : `${c.name} (key ${c.keyId}), verified, cosigned ${iso(c.verifiedAt)}`;
}

function shardCards(shards: ShardStatus[]): Html {
  return html`<div class="shards" id="shards">
    ${shards
      .slice()
      .reverse()
      .map(
        (s) =>
          html`<article class="shard" data-shard="${s.id}">
            <h3>
              Shard ${s.id}
              <span class="badge ${s.active ? 'ok' : ''}">${s.active ? 'active' : 'frozen'}</span>
            </h3>
            <dl>
              <dt>Tree size</dt>
              <dd class="tree-size">${s.treeSize}</dd>
              <dt>Entries in the last minute</dt>
              <dd class="rate">${s.entriesLastMinute}</dd>
              <dt>Root hash</dt>
              <dd class="hex root">${s.rootHash}</dd>
              <dt>Origin</dt>
              <dd class="wrap">${s.origin}</dd>
              <dt>Cosignatures</dt>
              <dd class="cosignatures">
                ${
                  s.cosignatures.length === 0
                    ? 'none yet'
                    : s.cosignatures.map(cosignatureText).join('; ')
                }
              </dd>
            </dl>
            <details>
              <summary>Latest checkpoint (tree size ${s.checkpointSize})</summary>
              <pre class="checkpoint">${s.checkpoint}</pre>
            </details>
          </article>`,
      )}
  </div>`;
}

export function homePage(status: StatusView): string {
  return layout({
    title: 'Home',
    script: 'home.js',
    main: html`<h1>Find and check what this stack signed</h1>
      <p class="lead">
        Search the transparency log by identity, artifact digest, key fingerprint, log index or
        entry UUID; open an entry to see who signed it and to check, in your browser, that it is in
        the log.
      </p>
      <section aria-labelledby="check-title" class="card">
        <h2 id="check-title">Check a bundle</h2>
        <form id="bundle-form" class="drop" novalidate>
          <p id="drop-hint">
            Drop a Sigstore bundle here (and, if you have it, the signed file), or choose them
            below. It is checked against this stack's trusted root by the same verifier as
            <code>signet verify-blob</code>.
          </p>
          <div class="files">
            <label
              >Bundle <input id="bundle-file" type="file" accept=".json,.sigstore,application/json"
            /></label>
            <label>Signed file (optional) <input id="artifact-file" type="file" /></label>
          </div>
          <button type="submit" id="check-button">Check bundle</button>
          <noscript
            ><p class="error">
              Checking a bundle here needs JavaScript; use <code>signet verify-blob</code> instead.
            </p></noscript
          >
        </form>
        <div id="bundle-result" role="status" aria-live="polite"></div>
      </section>
      <section aria-labelledby="status-title" class="card">
        <h2 id="status-title">
          Log status <span class="muted small" id="status-time">as of ${iso(status.now)}</span>
        </h2>
        ${shardCards(status.shards)}
        <h3>Latest entries</h3>
        ${entryTable(status.latest, true)}
      </section>`,
  });
}

const QUERY_WORDS: Record<string, string> = {
  index: 'a log index',
  entryId: 'a Rekor entry ID',
  hex: 'an entry UUID, artifact digest, git commit ID, or key or certificate fingerprint',
  commit: 'a git commit ID',
  digest: 'an artifact or payload digest, or a key or certificate fingerprint',
  identity: 'an identity (certificate subject alternative name)',
  issuer: 'an OIDC issuer',
};

/** What a term was searched as; bare 40 hex digits are a SHA-1 digest's too. */
function queryWords(kind: string, term: string): string {
  if (kind === 'commit' && /^[0-9a-fA-F]{40}$/.test(term)) return 'a git commit ID or SHA-1 digest';
  return QUERY_WORDS[kind] ?? kind;
}

/**
 * What an empty search of this kind may have missed, for the searches a git user makes first:
 * a commit's own signature is logged over the commit's signed attributes (gitsign's form), so
 * its commit ID finds only attestations about it; the 40-hex "certificate ID" gitsign and
 * `git log %GK` print is the certificate's SHA-1, which the log does not index.
 */
function emptyHint(kind: string): Html | string {
  if (kind !== 'commit') return '';
  return html` A commit ID finds attestations about that commit, not the commit's own signature
    (logged over the commit's signed attributes): search its signer's identity or the log index
    <code>git log --show-signature</code> prints. The 40-digit certificate ID git and gitsign show
    is the certificate's SHA-1; search its SHA-256 fingerprint instead.`;
}

export function searchPage(opts: {
  term: string;
  kind: string;
  page: number;
  pages: number;
  total: number;
  items: EntrySummary[];
}): string {
  const { term, page, pages, total } = opts;
  // "newest first" only when there are entries to order
  const count = `entr${total === 1 ? 'y' : 'ies'}${total > 1 ? ', newest first' : ''}${pages > 1 ? `, page ${page} of ${pages}` : ''}`;
  const pageLink = (n: number, text: string, rel: string) =>
    html`<a rel="${rel}" href="/?q=${encodeURIComponent(term)}&amp;page=${n}">${text}</a>`;
  return layout({
    title: `Search: ${term}`,
    term,
    main: html`<h1>Search results</h1>
      <p class="query">
        Searched for <q class="term">${term}</q> as ${queryWords(opts.kind, term)}:
        <strong>${total}</strong> ${count}.
      </p>
      ${total === 0 ? html`<p class="empty" role="status">No entry of this log matches <q class="term">${term}</q>.${emptyHint(opts.kind)}</p>` : entryTable(opts.items)}
      ${
        pages > 1
          ? html`<nav class="pager" aria-label="Result pages">
              ${page > 1 ? pageLink(page - 1, '← Newer', 'prev') : ''}<span
                >Page ${page} of ${pages}</span
              >${page < pages ? pageLink(page + 1, 'Older →', 'next') : ''}
            </nav>`
          : ''
      }`,
  });
}

/** A page that says what was wrong with the request, never a blank page or a trace. */
export function errorPage(opts: { title: string; message: string; term?: string }): string {
  return layout({
    title: opts.title,
    ...(opts.term !== undefined ? { term: opts.term } : {}),
    main: html`<h1>${opts.title}</h1>
      <p class="error" role="alert">${opts.message}</p>
      <p><a href="/">Back to the explorer</a></p>`,
  });
}

/** Fulcio's names for its extensions (fulcio docs/oid-info.md), by the arc after 57264.1. */
const FULCIO_LABELS: Record<string, string> = {
  issuer: 'Issuer (deprecated form)',
  githubWorkflowTrigger: 'GitHub Workflow Trigger',
  githubWorkflowSha: 'GitHub Workflow SHA',
  githubWorkflowName: 'GitHub Workflow Name',
  githubWorkflowRepository: 'GitHub Workflow Repository',
  githubWorkflowRef: 'GitHub Workflow Ref',
  issuerV2: 'Issuer',
  buildSignerUri: 'Build Signer URI',
  buildSignerDigest: 'Build Signer Digest',
  runnerEnvironment: 'Runner Environment',
  sourceRepositoryUri: 'Source Repository URI',
  sourceRepositoryDigest: 'Source Repository Digest',
  sourceRepositoryRef: 'Source Repository Ref',
  sourceRepositoryIdentifier: 'Source Repository Identifier',
  sourceRepositoryOwnerUri: 'Source Repository Owner URI',
  sourceRepositoryOwnerIdentifier: 'Source Repository Owner Identifier',
  buildConfigUri: 'Build Config URI',
  buildConfigDigest: 'Build Config Digest',
  buildTrigger: 'Build Trigger',
  runInvocationUri: 'Run Invocation URI',
  sourceRepositoryVisibilityAtSigning: 'Source Repository Visibility At Signing',
  deploymentEnvironment: 'Deployment Environment',
  tokenSubject: 'Token Subject',
};

const EXTENSION_NAMES: Record<string, string> = {
  [OID.subjectKeyIdentifier]: 'Subject Key Identifier',
  [OID.keyUsage]: 'Key Usage',
  [OID.subjectAltName]: 'Subject Alternative Name',
  [OID.basicConstraints]: 'Basic Constraints',
  [OID.authorityKeyIdentifier]: 'Authority Key Identifier',
  [OID.extKeyUsage]: 'Extended Key Usage',
  [OID.sctList]: 'Signed Certificate Timestamps (CT)',
  [OID.ctPoison]: 'CT precertificate poison',
};

function certificateDetails(c: X509Certificate, fulcioNames: Map<string, string>): Html {
  const usage = c.keyUsage
    ? Object.entries(c.keyUsage)
        .filter(([k, v]) => k !== 'critical' && v === true)
        .map(([k]) => k)
        .join(', ')
    : undefined;
  return html`<dl class="grid">
    <dt>Subject</dt>
    <dd class="wrap">${c.subject || '(empty)'}</dd>
    <dt>Issuer</dt>
    <dd class="wrap">${c.issuer}</dd>
    <dt>Serial number</dt>
    <dd class="hex">${c.serialHex}</dd>
    <dt>Valid</dt>
    <dd>${isoDate(c.notBefore)} to ${isoDate(c.notAfter)}</dd>
    <dt>Public key</dt>
    <dd>
      ${c.publicKey.asymmetricKeyType}${c.publicKey.asymmetricKeyDetails?.namedCurve ? ` ${c.publicKey.asymmetricKeyDetails.namedCurve}` : ''}
    </dd>
    <dt>Subject alternative names</dt>
    <dd class="wrap">
      ${c.subjectAltNames.map((n) => `${n.type}: ${n.value}`).join(', ') || 'none'}
    </dd>
    ${
      usage
        ? html`<dt>Key usage</dt>
            <dd>${usage}</dd>`
        : ''
    }
    ${
      c.extendedKeyUsage
        ? html`<dt>Extended key usage</dt>
            <dd>
              ${c.extendedKeyUsage.map((o) => (o === OID.codeSigning ? 'code signing' : o)).join(', ')}
            </dd>`
        : ''
    }
    <dt>Extensions</dt>
    <dd>
      <ul class="plain">
        ${c.extensions.map(
          (e) =>
            html`<li>
              <span class="oid">${e.oid}</span>
              ${EXTENSION_NAMES[e.oid] ?? fulcioNames.get(e.oid) ?? ''}${e.critical ? ' (critical)' : ''}
            </li>`,
        )}
      </ul>
    </dd>
  </dl>`;
}

function signerSection(s: SignerView, logTime: number, i: number): Html {
  if (s.type === 'publicKey')
    return html`<section class="card" aria-labelledby="signer-${i}">
      <h2 id="signer-${i}">Signer: a public key</h2>
      <dl class="grid">
        <dt>Key</dt>
        <dd>${s.keyType}</dd>
        <dt>Fingerprint (SHA-256 of the key)</dt>
        <dd class="hex">${searchLink(s.keyFingerprint)}</dd>
      </dl>
      <p class="muted">Signed with a key, not a certificate: the log records no identity.</p>
      <details>
        <summary>Public key (PEM)</summary>
        <pre>${s.pem}</pre>
      </details>
    </section>`;
  const c = s.certificate;
  const validity =
    s.validAtLogTime === 'valid'
      ? html`<span class="badge ok">valid at log time</span> The certificate was valid when the
          entry was logged (${iso(logTime)}, ${Math.round(logTime - c.notBefore.getTime() / 1000)} s
          after it was issued).`
      : s.validAtLogTime === 'expired'
        ? html`<span class="badge bad">expired at log time</span> The entry was logged at
            ${iso(logTime)}, after the certificate expired (${isoDate(c.notAfter)}).`
        : html`<span class="badge bad">not yet valid at log time</span> The entry was logged at
            ${iso(logTime)}, before the certificate's validity began (${isoDate(c.notBefore)}).`;
  const fulcioNames = new Map(s.fulcio.map((x) => [x.oid, FULCIO_LABELS[x.name] ?? x.name]));
  return html`<section class="card" aria-labelledby="signer-${i}">
    <h2 id="signer-${i}">Signer${s.caCheck?.trusted === false ? ' (claimed)' : ''}</h2>
    <dl class="grid">
      ${
        s.caCheck
          ? html`<dt>Issued by</dt>
              <dd class="ca">${caText(s.caCheck)}</dd>`
          : ''
      }
      <dt>Identity</dt>
      <dd class="wrap identity">
        ${
          s.identities.length === 0
            ? '(none)'
            : s.identities.map((id, k) => html`${k > 0 ? ', ' : ''}${searchLink(id)}`)
        }
      </dd>
      <dt>OIDC issuer</dt>
      <dd class="wrap issuer">
        ${s.issuer ? searchLink(`issuer:${s.issuer}`, s.issuer) : '(none)'}
      </dd>
      <dt>Validity</dt>
      <dd class="validity">${validity}</dd>
      <dt>Certificate fingerprint</dt>
      <dd class="hex">${searchLink(s.fingerprint)}</dd>
      <dt>Key fingerprint</dt>
      <dd class="hex">${searchLink(s.keyFingerprint)}</dd>
    </dl>
    ${
      s.fulcio.length === 0
        ? html`<p class="muted">The certificate carries no Fulcio extensions.</p>`
        : html`<h3>Fulcio extensions</h3>
            <div class="table-wrap">
              <table class="extensions">
                <thead>
                  <tr>
                    <th scope="col">Extension</th>
                    <th scope="col">Value</th>
                    <th scope="col">OID</th>
                  </tr>
                </thead>
                <tbody>
                  ${s.fulcio.map(
                    (x) =>
                      html`<tr>
                        <th scope="row">${FULCIO_LABELS[x.name] ?? x.name}</th>
                        <td class="wrap">${x.value}</td>
                        <td class="oid">${x.oid}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
    }
    <h3>Certificate</h3>
    ${certificateDetails(c, fulcioNames)}
    <details>
      <summary>Certificate (PEM)</summary>
      <pre class="pem">${s.pem}</pre>
    </details>
  </section>`;
}

const DIGEST_LABELS: Record<DigestOf, string> = {
  data: 'Signed digest',
  payload: 'Payload digest',
  envelope: 'Envelope digest',
};

/**
 * A digest the entry records, named for what it is of (core/rekor describe.ts DigestOf). A
 * hashedrekord's may be an attestation's, which is not the attested file's: the note says so.
 */
function digestRow(x: EntryDescription['digests'][number]): Html {
  const text = `${x.algorithm}:${x.hex}`;
  return html`<dt>${DIGEST_LABELS[x.of]}</dt>
    <dd class="digest" data-of="${x.of}">
      <span class="hex">${x.of === 'envelope' ? text : searchLink(text)}</span>
      ${
        x.of === 'data'
          ? html`<span class="muted small note"
              >What the signature covers: a signed file's digest or, for an attestation logged by
              digest (as Rekor v2 logs DSSE envelopes), the digest of its DSSE pre-authentication
              encoding (payload type and payload), not of the file it is about. The entry does not
              say which.</span
            >`
          : ''
      }
    </dd>`;
}

/** An attestation's subjects (each a search for the entries about that file), or why not shown. */
function attestationRows(a: AttestationView): Html {
  if (a.kind === 'unavailable')
    return html`<dt>Subjects</dt>
      <dd class="subjects muted">Not shown: ${a.reason}.</dd>`;
  return html`<dt>Predicate type</dt>
    <dd class="wrap">${a.predicateType}</dd>
    <dt>Subjects</dt>
    <dd class="subjects">
      <ul class="plain">
        ${a.subjects.map(
          (sub) =>
            html`<li>
              <span class="wrap">${sub.name || '(no name)'}</span>
              ${Object.entries(sub.digest).map(
                ([alg, hex]) => html` <span class="hex">${searchLink(`${alg}:${hex}`)}</span>`,
              )}
            </li>`,
        )}
      </ul>
      <span class="muted small note"
        >From the in-toto statement the log keeps with this entry, checked against its payload
        digest.</span
      >
    </dd>`;
}

function prettyBody(body: Uint8Array): string {
  const text = new TextDecoder().decode(body);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function entryPage(v: EntryView, baseUrl: string, others: number[]): string {
  const s = v.summary;
  const d = v.description;
  const url = `${baseUrl}${entryPath(s.uuid)}`;
  return layout({
    title: `Entry ${s.logIndex}`,
    script: 'entry.js',
    main: html`<h1>Log entry ${s.logIndex} <span class="kind">${kindText(s)}</span></h1>
      <section class="card" aria-labelledby="summary-title">
        <h2 id="summary-title" class="sr-only">Summary</h2>
        <dl class="grid">
          <dt>Kind</dt>
          <dd>${s.kind}, version ${s.apiVersion}</dd>
          ${(d?.digests ?? []).map(digestRow)}
          ${
            d?.payloadType
              ? html`<dt>Payload type</dt>
                  <dd>${d.payloadType}</dd>`
              : ''
          }
          ${v.attestation ? attestationRows(v.attestation) : ''}
          <dt>Signed by</dt>
          <dd class="wrap">
            ${s.signer}${s.issuer ? html` <span class="muted">(issuer ${s.issuer})</span>` : ''}${untrustedMark(s)}
          </dd>
          <dt>Logged at</dt>
          <dd>
            ${iso(s.integratedTime)}
            <span class="muted">(integrated time ${s.integratedTime})</span>
          </dd>
          <dt>Log index</dt>
          <dd>
            ${s.logIndex}
            <span class="muted">(shard ${s.shard}, index ${s.shardIndex} in the shard)</span>
          </dd>
          <dt>Shard origin</dt>
          <dd class="wrap">${v.origin}</dd>
          <dt>Entry UUID</dt>
          <dd class="hex">${s.uuid}</dd>
          <dt>Entry ID (Rekor v1)</dt>
          <dd class="hex">${v.entryId}</dd>
          <dt>Link</dt>
          <dd class="wrap"><a href="${entryPath(s.uuid)}" id="stable-url">${url}</a></dd>
        </dl>
        ${others.length > 0 ? html`<p class="muted">The same entry is also in shard${others.length > 1 ? 's' : ''} ${others.map((o, k) => html`${k > 0 ? ', ' : ''}<a href="${entryPath(s.uuid)}?shard=${o}">${o}</a>`)}.</p>` : ''}
        ${v.bodyError ? html`<p class="error" role="alert">${v.bodyError}</p>` : ''}
      </section>
      <section
        class="card"
        aria-labelledby="proof-title"
        id="proof"
        data-uuid="${s.uuid}"
        data-shard="${s.shard}"
      >
        <h2 id="proof-title">Inclusion, checked in your browser</h2>
        <p id="proof-state" class="pending" role="status" aria-live="polite">
          Checking the inclusion proof and the checkpoint signature…
        </p>
        <ol id="proof-steps"></ol>
        <noscript
          ><p class="error">This check runs in your browser and needs JavaScript.</p></noscript
        >
      </section>
      ${v.signers.map((sg, i) => signerSection(sg, s.integratedTime, i))}
      <section class="card" aria-labelledby="body-title">
        <h2 id="body-title">Raw entry</h2>
        <details open>
          <summary>Body (the canonical JSON the log hashed, ${v.body.length} bytes)</summary>
          <pre class="body">${prettyBody(v.body)}</pre>
        </details>
        <p>
          <a href="${ASSET_PREFIX}/api/entries/${s.uuid}?shard=${s.shard}"
            >Entry, proof and checkpoint as JSON</a
          >
        </p>
      </section>`,
  });
}
