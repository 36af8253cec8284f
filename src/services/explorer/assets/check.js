// Inclusion of a log entry, checked in the browser with WebCrypto so the answer does not rest
// on the page's server: the leaf hash of the entry body (RFC 9162 §2.1.1), the inclusion proof
// up to a root (RFC 9162 §2.1.3.2), the checkpoint that states that root (C2SP tlog-checkpoint),
// and the checkpoint's signature (C2SP signed-note) by a log key of the trusted root.

const subtle = crypto.subtle;
const enc = new TextEncoder();

export function fromBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export async function sha256(data) {
  return new Uint8Array(await subtle.digest('SHA-256', data));
}

export const leafHash = (body) => sha256(concat(new Uint8Array([0]), body));
const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or an Error saying why not. */
export async function rootFromProof(index, size, leaf, proof) {
  if (!(index >= 0 && index < size))
    throw new Error(`index ${index} is not inside a tree of size ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error('the proof has more hashes than the tree has levels');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
    } else r = await nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('the proof has fewer hashes than the tree has levels');
  return r;
}

/** A C2SP signed note: the text (with its final newline) and its signature lines. */
export function parseNote(note) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint has no signature block');
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
      if (!m) throw new Error(`"${line}" is not a signature line`);
      const raw = fromBase64(m[2]);
      if (raw.length < 5) throw new Error(`the signature of ${m[1]} is too short`);
      return { name: m[1], keyId: toHex(raw.slice(0, 4)), signature: raw.slice(4) };
    });
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new Error('the checkpoint lacks origin, size or root hash');
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1]))
    throw new Error(`tree size "${lines[1]}" is not a number`);
  return {
    text,
    origin: lines[0],
    size: Number(lines[1]),
    rootHash: fromBase64(lines[2]),
    signatures,
  };
}

/** An ECDSA signature in DER (what notes carry) as r || s, the form WebCrypto takes. */
function derToRaw(der, n) {
  const fail = () => {
    throw new Error('the ECDSA signature is not DER');
  };
  let i = 0;
  if (der[i++] !== 0x30) fail();
  let len = der[i++];
  if (len & 0x80) i += len & 0x7f;
  const int = () => {
    if (der[i++] !== 0x02) fail();
    const l = der[i++];
    let v = der.slice(i, i + l);
    i += l;
    while (v.length > n && v[0] === 0) v = v.slice(1);
    if (v.length > n) fail();
    return concat(new Uint8Array(n - v.length), v);
  };
  return concat(int(), int());
}

const KEYS = {
  PKIX_ECDSA_P256_SHA_256: { name: 'ECDSA', namedCurve: 'P-256', size: 32, words: 'ECDSA P-256' },
  PKIX_ECDSA_P384_SHA_384: { name: 'ECDSA', namedCurve: 'P-384', size: 48, words: 'ECDSA P-384' },
  PKIX_ED25519: { name: 'Ed25519', words: 'Ed25519' },
};

/** The note key ID of a trusted-root log key under a key name (C2SP signed-note, tlog-checkpoint). */
async function noteKeyId(details, spki, name) {
  if (details === 'PKIX_ED25519') {
    const raw = spki.slice(-32);
    return toHex(
      (await sha256(concat(enc.encode(name), new Uint8Array([0x0a, 0x01]), raw))).slice(0, 4),
    );
  }
  return toHex((await sha256(spki)).slice(0, 4));
}

/** The Ed25519 key of a witness vkey `name+hex(keyID)+base64(0x04 || key)` (c2sp.org/signed-note). */
function witnessKey(vkey) {
  // Names hold no "+", the key ID is hex, and the base64 key may hold "+": split twice only.
  const i = vkey.indexOf('+');
  const j = vkey.indexOf('+', i + 1);
  if (i <= 0 || j < 0) return undefined;
  const body = fromBase64(vkey.slice(j + 1));
  if (body.length !== 33 || body[0] !== 0x04) return undefined;
  return { name: vkey.slice(0, i), raw: body.slice(1) };
}

/**
 * A witness cosignature (c2sp.org/tlog-cosignature v1): key ID = SHA-256(name || 0x0A || 0x04 ||
 * key)[:4]; signature = u64 timestamp || Ed25519 over "cosignature/v1\ntime <t>\n" || checkpoint.
 */
async function checkCosignature(cp, s, witnesses, step, steps) {
  const w = witnesses.map((x) => witnessKey(x.vkey)).find((k) => k && k.name === s.name);
  const id =
    w &&
    toHex(
      (await sha256(concat(enc.encode(w.name), new Uint8Array([0x0a, 0x04]), w.raw))).slice(0, 4),
    );
  if (!w || id !== s.keyId) {
    steps.push({
      ok: null,
      text: `Cosigned by ${s.name} (key ID ${s.keyId}): not a witness this stack names, so shown, not checked.`,
    });
    return;
  }
  if (s.signature.length !== 72) {
    step(
      false,
      `The cosignature by witness ${s.name} is ${s.signature.length} bytes, not 72 (timestamp and Ed25519 signature).`,
    );
    return;
  }
  const time = Number(new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0));
  const key = await subtle.importKey('raw', w.raw, { name: 'Ed25519' }, false, ['verify']);
  const message = enc.encode(`cosignature/v1\ntime ${time}\n${cp.text}`);
  const ok = await subtle.verify({ name: 'Ed25519' }, key, s.signature.slice(8), message);
  step(
    ok,
    ok
      ? `Cosigned by witness ${s.name} at ${new Date(time * 1000).toISOString().replace('.000Z', 'Z')}: the cosignature verifies with Ed25519 under the witness key this stack names (key ID ${s.keyId}).`
      : `The cosignature by witness ${s.name} (key ID ${s.keyId}) does NOT verify.`,
  );
}

/**
 * Checks an entry's proof (the explorer's /explorer/api/entries answer) against the trusted
 * root. Returns the steps, each {ok, text}; the last failing step ends the check.
 */
export async function checkInclusion(p, trustedRoot, expectedUuid) {
  const steps = [];
  const step = (ok, text) => {
    steps.push({ ok, text });
    return ok;
  };
  try {
    const body = fromBase64(p.body);
    const leaf = await leafHash(body);
    if (
      !step(
        toHex(leaf) === expectedUuid,
        toHex(leaf) === expectedUuid
          ? `The entry body (${body.length} bytes) hashes to leaf hash ${toHex(leaf)} (SHA-256 of 0x00 and the body), which is this entry's UUID.`
          : `The entry body hashes to ${toHex(leaf)}, not to this entry's UUID ${expectedUuid}.`,
      )
    )
      return steps;
    const hashes = p.hashes.map(fromBase64);
    const root = await rootFromProof(p.shardIndex, p.treeSize, leaf, hashes);
    const cp = parseNote(p.checkpoint);
    const sameTree = cp.size === p.treeSize && equal(cp.rootHash, root);
    if (
      !step(
        sameTree,
        sameTree
          ? `The inclusion proof (${hashes.length} hash${hashes.length === 1 ? '' : 'es'}) from leaf ${p.shardIndex} leads to root hash ${toHex(root)}, the root the checkpoint states for its tree of ${cp.size} entries.`
          : `The inclusion proof leads to root ${toHex(root)} for size ${p.treeSize}, but the checkpoint states root ${toHex(cp.rootHash)} for size ${cp.size}.`,
      )
    )
      return steps;
    if (
      !step(
        cp.origin === p.origin,
        `The checkpoint's origin is ${cp.origin}${cp.origin === p.origin ? ', the shard this entry is in.' : `, not the entry's shard ${p.origin}.`}`,
      )
    )
      return steps;
    const own = cp.signatures.filter((s) => s.name === cp.origin);
    let verified = null;
    for (const log of trustedRoot.tlogs ?? []) {
      const details = log.publicKey?.keyDetails;
      const alg = KEYS[details];
      if (!alg || !log.publicKey.rawBytes) continue;
      const spki = fromBase64(log.publicKey.rawBytes);
      const id = await noteKeyId(details, spki, cp.origin);
      const sig = own.find((s) => s.keyId === id);
      if (!sig) continue;
      const key = await subtle.importKey(
        'spki',
        spki,
        alg.namedCurve ? { name: alg.name, namedCurve: alg.namedCurve } : { name: alg.name },
        false,
        ['verify'],
      );
      const ok =
        alg.name === 'ECDSA'
          ? await subtle.verify(
              { name: 'ECDSA', hash: 'SHA-256' },
              key,
              derToRaw(sig.signature, alg.size),
              enc.encode(cp.text),
            )
          : await subtle.verify({ name: 'Ed25519' }, key, sig.signature, enc.encode(cp.text));
      verified = { ok, log, sig, alg, fingerprint: toHex(await sha256(spki)) };
      if (ok) break;
    }
    if (!verified)
      return (
        step(
          false,
          `No log key of the trusted root made a signature on this checkpoint (signers: ${cp.signatures.map((s) => `${s.name} ${s.keyId}`).join(', ') || 'none'}).`,
        ),
        steps
      );
    if (
      !step(
        verified.ok,
        verified.ok
          ? `The checkpoint's signature by ${verified.sig.name} (key ID ${verified.sig.keyId}) verifies with ${verified.alg.words}${verified.alg.name === 'ECDSA' ? ' over SHA-256' : ''} under the key of log ${verified.log.baseUrl} in this stack's trusted root (key fingerprint SHA-256 ${verified.fingerprint}).`
          : `The checkpoint's signature by ${verified.sig.name} (key ID ${verified.sig.keyId}) does NOT verify under the key of log ${verified.log.baseUrl}.`,
      )
    )
      return steps;
    for (const s of cp.signatures.filter((x) => x.name !== cp.origin))
      await checkCosignature(cp, s, p.witnesses ?? [], step, steps);
  } catch (e) {
    step(false, `The check could not be completed: ${e instanceof Error ? e.message : String(e)}`);
  }
  return steps;
}
