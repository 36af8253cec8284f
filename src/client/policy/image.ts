/**
 * Policy decisions about container images: the reference is resolved to its digest in the
 * registry, every signature and attestation attached to it is found (OCI referrers, the
 * referrers tag schema, legacy `.sig`/`.att` tags: client/oci), and each becomes evidence the
 * engine verifies through client/oci's verifyAttachment (the one verifier, plus what only
 * images have: the legacy payload must name this digest). Authorities with a `source` look for
 * signatures in that repository instead.
 */
import { reasonOf, SignetError } from '../../core/errors.ts';
import { parseReference } from '../../core/oci/reference.ts';
import type { Digest } from '../../core/oci/digest.ts';
import {
  AttachmentBudget,
  discover,
  imageConfigs,
  repositoryOf,
  resolveImage,
  verifyAttachment,
  type AttachmentKind,
  type RegistryOptions,
  type ResolvedImage,
} from '../oci/index.ts';
import type { Attachment, Rejected } from '../oci/discover.ts';
import type { ImageEvidenceProvider } from './admission.ts';
import {
  DEFAULT_EVALUATION_MS,
  evaluate,
  sourceKey,
  unavailableEvidence,
  type Decision,
  type EvaluateOptions,
  type Evidence,
  type Target,
} from './engine.ts';
import { parseImageReference, type ImageReference } from './glob.ts';
import type { Policy } from './types.ts';

/** The signature repositories the policies name (`authorities[].source[]`), once each. */
export function signatureSources(
  policies: Policy[],
): Array<{ oci: string; tagPrefix: string | undefined }> {
  const out = new Map<string, { oci: string; tagPrefix: string | undefined }>();
  for (const p of policies)
    for (const a of p.authorities)
      if (a.kind !== 'static') for (const s of a.sources) out.set(sourceKey(s), s);
  return [...out.values()];
}

/** What the policies can use: signatures, attestations, or both (each is a registry lookup). */
export function neededKinds(policies: Policy[]): AttachmentKind[] {
  const kinds = new Set<AttachmentKind>();
  for (const p of policies)
    for (const a of p.authorities)
      if (a.kind !== 'static') kinds.add(a.attestations.length > 0 ? 'attestation' : 'signature');
  return [...kinds];
}

/** What was found in one signature repository (the image's own, or a policy's `source`). */
export interface GatheredSource {
  /** The `source[].oci` repository, or undefined for the image's own. */
  origin: string | undefined;
  attachments: Attachment[];
  unreadable: Rejected[];
}

/** Everything the registry gave for one image: enough to decide again offline (policy test). */
export interface GatheredImage {
  digest: Digest;
  sources: GatheredSource[];
  /** Its config files by platform, when a policy asked (spec.policy fetchConfigFile). */
  configs?: Record<string, unknown>;
}

/** The image target a gathered image is decided as (with its configs, if gathered). */
export function imageTarget(
  ref: ImageReference,
  digestName: string | undefined,
  g?: GatheredImage,
): Target {
  return {
    kind: 'image',
    ref,
    ...(digestName !== undefined ? { digestName } : {}),
    ...(g?.configs !== undefined ? { configs: g.configs } : {}),
  };
}

async function gatherSource(
  image: ResolvedImage,
  label: string,
  registry: RegistryOptions,
  source: { oci: string; tagPrefix: string | undefined } | undefined,
  kinds: AttachmentKind[],
  budget: AttachmentBudget,
): Promise<GatheredSource> {
  const origin = source && sourceKey(source);
  if (kinds.length === 0) return { origin, attachments: [], unreadable: [] };
  const repo =
    source === undefined
      ? repositoryOf(image.ref, registry)
      : sourceRepository(source.oci, registry);
  const d = await discover(repo, image.digest, label, kinds, source?.tagPrefix, budget);
  return { origin, attachments: d.attachments, unreadable: d.unreadable };
}

/**
 * The engine's evidence from what was gathered (live, or recorded): each attachment verified
 * through client/oci's verifyAttachment against the image digest.
 */
export function imageEvidence(g: GatheredImage): Evidence[] {
  const out: Evidence[] = [];
  for (const { origin, attachments, unreadable } of g.sources) {
    const at = origin ? `${origin} ` : '';
    for (const a of attachments)
      out.push({
        kind: a.kind,
        label: `${at}${a.location}`,
        scheme: a.scheme === 'referrer' ? 'bundle' : 'legacy',
        ...(origin !== undefined ? { origin } : {}),
        verify: (policy, root, options) =>
          verifyAttachment(a, g, {
            trustedRoot: root,
            policy,
            verify: options,
            ...(options.predicateType !== undefined
              ? { predicateType: options.predicateType }
              : {}),
          }).result,
      });
    // Unreadable candidates are reasons too (a signature that is not what it claims).
    for (const u of unreadable)
      out.push({
        kind: 'signature',
        label: `${at}${u.location}`,
        ...(origin !== undefined ? { origin } : {}),
        verify: () => {
          throw new SignetError('verification', 'UNREADABLE_SIGNATURE', u.reason);
        },
      });
  }
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
  const configs = policies.some((p) => p.includes.includes('config'));
  const resolved = new Map<string, ResolvedImage>();
  const until = (deadline: number): RegistryOptions => ({
    ...registry,
    http: { ...registry.http, deadline },
  });
  return {
    async resolve(ref, deadline) {
      const r = await resolveImage(ref.oci, { registry: until(deadline) });
      const name = `${ref.registry}/${ref.repository}@${r.digest.text}`;
      resolved.set(name, r);
      if (resolved.size > 1000) resolved.delete(resolved.keys().next().value!);
      return name;
    },
    async gather(ref, digestName, deadline) {
      const reg = until(deadline);
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
          { registry: reg },
        );
      }
      // One image's signatures are held within one budget, wherever they are kept.
      const budget = new AttachmentBudget();
      const [all, config] = await Promise.all([
        Promise.all([
          gatherSource(image, ref.original, reg, undefined, kinds, budget),
          ...sources.map((s) => gatherSource(image, ref.original, reg, s, kinds, budget)),
        ]),
        configs
          ? imageConfigs(repositoryOf(image.ref, reg), image.digest, ref.original)
          : undefined,
      ]);
      return { digest: image.digest, sources: all, ...(config ? { configs: config } : {}) };
    },
  };
}

/** What `policy verify` is given: registry access, no-match action, the deadline. */
export interface ImageDecisionOptions {
  registry?: RegistryOptions;
  noMatch?: EvaluateOptions['noMatch'];
  /** Epoch ms by which the whole decision (registry, verification, conditions) is made. */
  deadline?: number;
  /** Told what the registry gave (or why it gave nothing), for `policy verify --record`. */
  gathered?: (g: GatheredImage | { unavailable: string }) => void;
}

/** `policy verify IMAGE`: resolve, gather, decide, all before the deadline. */
export async function decideImage(
  policies: Policy[],
  image: string,
  o: ImageDecisionOptions = {},
): Promise<Decision> {
  const ref: ImageReference = parseImageReference(image, 'image');
  const provider = registryEvidence(policies, o.registry ?? {});
  const deadline = o.deadline ?? Date.now() + DEFAULT_EVALUATION_MS;
  const opts: EvaluateOptions = { deadline, ...(o.noMatch ? { noMatch: o.noMatch } : {}) };
  let digestName = ref.digest ? `${ref.registry}/${ref.repository}@${ref.digest}` : undefined;
  let evidence: Evidence[];
  let g: GatheredImage | undefined;
  try {
    digestName ??= await provider.resolve(ref, deadline);
    g = await provider.gather(ref, digestName, deadline);
    o.gathered?.(g);
    evidence = imageEvidence(g);
  } catch (e) {
    // The registry failed or stalled: the policies covering the image decide what that means
    // (a denial in enforce mode, a warning in warn mode), with the reason.
    if (!(e instanceof SignetError) || e.kind === 'invalid-input') throw e;
    // The decision names the image already: the reason leaves out the registry error's copy.
    const reason = new SignetError(e.kind, e.code, reasonOf(e), { cause: e });
    o.gathered?.({ unavailable: reason.message });
    evidence = unavailableEvidence(`registry (${ref.registry})`, reason);
  }
  return evaluate(policies, imageTarget(ref, digestName, g), evidence, opts);
}
