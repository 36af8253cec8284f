/**
 * What a log monitor needs from a certificate (or an RFC 6962 precertificate TBS), read with
 * one walk of the DER: the subject alternative names, the extensions (OID -> extnValue) and
 * the SubjectPublicKeyInfo. No key object, no name decoding, no chain: a monitor scanning
 * millions of entries reads who a certificate names, it does not validate it (the verifier
 * does that, with parseCertificate).
 */
import { invalid } from '../errors.ts';
import { children, content, decodeOid, readTlv, slice, TAG, type Tlv } from '../encoding/der.ts';

export interface IdentityView {
  sans: Array<{ type: 'email' | 'dns' | 'uri' | 'otherName'; value: string }>;
  /** extnID (dotted) -> extnValue (the OCTET STRING's content). */
  extensions: Map<string, Uint8Array>;
  spki: Uint8Array;
}

const SAN_OID = '2.5.29.17';
// A leading U+FEFF is part of the name (as parseCertificate reads it), not a byte order mark.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `form`: a whole certificate, or the TBSCertificate alone (CT precertificate entries). */
export function identityView(
  der: Uint8Array,
  form: 'certificate' | 'tbs',
  field = 'certificate',
): IdentityView {
  let tbs: Tlv;
  if (form === 'certificate') {
    const outer = readTlv(der, 0, field);
    if (outer.tag !== TAG.SEQUENCE || outer.end !== der.length)
      throw invalid(field, 'is not a DER certificate');
    tbs = readTlv(der, outer.contentStart, field);
  } else {
    tbs = readTlv(der, 0, field);
    if (tbs.end !== der.length) throw invalid(field, 'has trailing data after the TBSCertificate');
  }
  if (tbs.tag !== TAG.SEQUENCE) throw invalid(field, 'TBSCertificate is not a SEQUENCE');
  const f = children(der, tbs, field);
  const i = f[0]?.tag === 0xa0 ? 1 : 0;
  const spkiTlv = f[i + 5];
  if (!spkiTlv || spkiTlv.tag !== TAG.SEQUENCE)
    throw invalid(field, 'TBSCertificate is incomplete');
  const extensions = new Map<string, Uint8Array>();
  const sans: IdentityView['sans'] = [];
  for (const t of f.slice(i + 6)) {
    if (t.tag !== 0xa3) continue;
    const inner = children(der, t, `${field}.extensions`);
    if (inner.length !== 1 || inner[0]!.tag !== TAG.SEQUENCE)
      throw invalid(`${field}.extensions`, 'is not a SEQUENCE of extensions');
    for (const e of children(der, inner[0]!, `${field}.extensions`)) {
      const p = e.tag === TAG.SEQUENCE ? children(der, e, `${field}.extensions`) : [];
      const value = p[p.length - 1];
      if (p.length < 2 || p.length > 3 || value!.tag !== TAG.OCTET_STRING)
        throw invalid(`${field}.extensions`, 'an extension is not (extnID, critical, extnValue)');
      const oid = decodeOid(der, p[0]!, `${field}.extensions`);
      if (extensions.has(oid))
        throw invalid(`${field}.extensions`, `extension ${oid} appears twice`);
      const v = content(der, value!);
      extensions.set(oid, v);
      if (oid === SAN_OID) readSans(v, sans, `${field}.extensions[${SAN_OID}]`);
    }
  }
  return { sans, extensions, spki: slice(der, spkiTlv) };
}

function readSans(v: Uint8Array, out: IdentityView['sans'], field: string): void {
  const seq = readTlv(v, 0, field);
  if (seq.tag !== TAG.SEQUENCE || seq.end !== v.length) throw invalid(field, 'is not GeneralNames');
  for (const g of children(v, seq, field)) {
    const text = () => Buffer.from(content(v, g)).toString('latin1');
    if (g.tag === 0x81) out.push({ type: 'email', value: text() });
    else if (g.tag === 0x82) out.push({ type: 'dns', value: text() });
    else if (g.tag === 0x86) out.push({ type: 'uri', value: text() });
    else if (g.tag === 0xa0) {
      // OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY } (Fulcio: UTF8String)
      const p = children(v, g, field);
      const inner = p[1]?.tag === 0xa0 ? children(v, p[1], field) : [];
      if (inner[0]?.tag === TAG.UTF8_STRING) {
        try {
          out.push({ type: 'otherName', value: UTF8.decode(content(v, inner[0])) });
        } catch {
          throw invalid(field, 'OtherName is not valid UTF-8');
        }
      }
    }
  }
}
