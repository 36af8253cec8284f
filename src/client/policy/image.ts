/**
 * Policy decisions about container images: the reference is resolved to its digest in the
 * registry, every signature and attestation attached to it is found (OCI referrers, the
 * referrers tag schema, legacy `.sig`/`.att` tags: client/oci), and each becomes evidence the
 * engine verifies through client/oci's verifyAttachment (the one verifier, plus what only
 * images have: the legacy payload must name this digest). Authorities with a `source` look for
 * signatures in that repository instead.
 */
import { SignetError } from '../../core/errors.ts';
import { parseReference } from '../../core/oci/reference.ts';
import {
  discover,
  repositoryOf,
  resolveImage,
  verifyAttachment,
  type AttachmentKind,
  type RegistryOptions,
  type ResolvedImage,
} from '../oci/index.ts';
import type { ImageEvidenceProvider } from './admission.ts';
import { evaluate, type Decision, type EvaluateOptions, type Evidence } from './engine.ts';
import { parseImageReference, type ImageReference } from './glob.ts';
import type { Policy } from './types.ts';

/** The signature repositories the policies name (`authorities[].source[].oci`). */
export function signatureSources(policies: Policy[]): string[] {
  const out = new Set<string>();
  for (const p of policies)
    for (const a of p.authorities)
      if (a.kind !== 'static') for (const s of a.sources) out.add(s.oci);
  return [...out];
}

/** What the policies can use: signatures, attestations, or both (each is a registry lookup). */
export function neededKinds(policies: Policy[]): AttachmentKind[] {
  const kinds = new Set<AttachmentKind>();
  for (const p of policies)
    for (const a of p.authorities)
      if (a.kind !== 'static') kinds.add(a.attestations.length > 0 ? 'attestation' : 'signature');
  return [...kinds];
}

async function attachmentsOf(
  image: ResolvedImage,
  label: string,
  registry: RegistryOptions,
  origin: string | undefined,
  kinds: AttachmentKind[],
): Promise<Evidence[]> {
  if (kinds.length === 0) return [];
  const repo =
    origin === undefined ? repositoryOf(image.ref, registry) : sourceRepository(origin, registry);
  const d = await discover(repo, image.digest, label, kinds);
  const out: Evidence[] = d.attachments.map((a) => ({
    kind: a.kind,
    label: `${origin ? `${origin} ` : ''}${a.location}`,
    scheme: a.scheme === 'referrer' ? 'bundle' : 'legacy',
    ...(origin !== undefined ? { origin } : {}),
    verify: (policy, root, options) =>
      verifyAttachment(a, image, {
        trustedRoot: root,
        policy,
        verify: options,
        ...(options.predicateType !== undefined ? { predicateType: options.predicateType } : {}),
      }).result,
  }));
  // Unreadable candidates are reasons too (a signature that is not what it claims).
  for (const u of d.unreadable)
    out.push({
      kind: 'signature',
      label: `${origin ? `${origin} ` : ''}${u.location}`,
      ...(origin !== undefined ? { origin } : {}),
      verify: () => {
        throw new SignetError('verification', 'UNREADABLE_SIGNATURE', u.reason);
      },
    });
  return out;
}

function sourceRepository(oci: string, registry: RegistryOptions) {
  const ref = parseReference(oci, 'source.oci');
  return repositoryOf(ref, registry);
}

/** Resolves and gathers from the image's registry (and the policies' signature sources). */
export function registryEvidence(
  policies: Policy[],
  registry: RegistryOptions = {},
): ImageEvidenceProvider {
  const sources = signatureSources(policies);
  const kinds = neededKinds(policies);
  const resolved = new Map<string, ResolvedImage>();
  return {
    async resolve(ref) {
      const r = await resolveImage(ref.oci, { registry });
      const name = `${ref.registry}/${ref.repository}@${r.digest.text}`;
      resolved.set(name, r);
      if (resolved.size > 1000) resolved.delete(resolved.keys().next().value!);
      return name;
    },
    async evidence(ref, digestName) {
      let image = resolved.get(digestName);
      resolved.delete(digestName);
      if (!image) {
        const at = digestName.lastIndexOf('@');
        image = await resolveImage(
          {
            ...ref.oci,
            tag: undefined,
            digest: parseReference(`x${digestName.slice(at)}`).digest!,
          },
          { registry },
        );
      }
      const all = await Promise.all([
        attachmentsOf(image, ref.original, registry, undefined, kinds),
        ...sources.map((s) => attachmentsOf(image, ref.original, registry, s, kinds)),
      ]);
      return all.flat();
    },
  };
}

/** `policy verify IMAGE`: resolve, gather, decide. */
export async function decideImage(
  policies: Policy[],
  image: string,
  o: { registry?: RegistryOptions; noMatch?: EvaluateOptions['noMatch'] } = {},
): Promise<Decision> {
  const ref: ImageReference = parseImageReference(image, 'image');
  const provider = registryEvidence(policies, o.registry ?? {});
  const signal = new AbortController().signal;
  const digestName = ref.digest
    ? `${ref.registry}/${ref.repository}@${ref.digest}`
    : await provider.resolve(ref, signal);
  const evidence = await provider.evidence(ref, digestName, signal);
  return evaluate(
    policies,
    { kind: 'image', ref, digestName },
    evidence,
    o.noMatch ? { noMatch: o.noMatch } : {},
  );
}
