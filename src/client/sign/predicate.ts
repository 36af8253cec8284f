import { invalid } from '../../core/errors.ts';
import { parseJsonText } from '../../core/json.ts';
import { ownEntry } from '../../core/own.ts';

/**
 * `--type` of attest-blob, as cosign maps it (cosign cmd/cosign/cli/options/predicate.go and
 * pkg/cosign/attestation): a short name, or any absolute URI taken as the predicate type.
 */
export const PREDICATE_TYPES: Record<string, string> = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  cyclonedxxml: 'https://cyclonedx.org/bom',
  link: 'https://in-toto.io/Link/v1',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
};

/** Types whose predicate file is text, carried as a JSON string (cosign does the same). */
const TEXT_PREDICATES = new Set(['spdx', 'cyclonedxxml']);

export function predicateTypeOf(type: string): string {
  const known = ownEntry(PREDICATE_TYPES, type);
  if (known) return known;
  let u: URL;
  try {
    u = new URL(type);
  } catch {
    throw invalid(
      '--type',
      `"${type}" is neither a known predicate type (${Object.keys(PREDICATE_TYPES).join(', ')}) nor a URI`,
    );
  }
  if (!u.protocol) throw invalid('--type', `"${type}" is not an absolute URI`);
  return type;
}

/**
 * The predicate value for the statement: cosign's custom type wraps the file as
 * `{Data, Timestamp}`; text formats become a string; everything else must be JSON.
 */
export function predicateValue(
  type: string,
  file: Uint8Array,
  now: Date,
  name = 'the predicate',
): unknown {
  const text = new TextDecoder().decode(file);
  if (
    type === 'custom' ||
    (ownEntry(PREDICATE_TYPES, type) === undefined &&
      predicateTypeOf(type) === PREDICATE_TYPES.custom)
  )
    return { Data: text, Timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  if (TEXT_PREDICATES.has(type)) return text;
  try {
    return parseJsonText(text, '--predicate', name);
  } catch (e) {
    // "NAME is not valid JSON (...)", and which type asked for JSON.
    const reason = (e as Error).message.replace(/^--predicate: /, '');
    throw invalid('--predicate', `${reason}; predicate type ${type} takes JSON`, e);
  }
}
