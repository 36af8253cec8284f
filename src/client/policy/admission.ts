/**
 * The admission decision: every image of the admitted object is resolved to its digest,
 * its signatures and attestations found, and the policies applied; the object is admitted only
 * when every image is. Verified decisions are cached per digest for a bounded time (and bounded
 * count); concurrent requests for the same image share one evaluation; the whole review is
 * bounded by the webhook's timeout, and an image still undecided then is denied wherever an
 * enforcing policy covers it. A malformed review is a clear denial.
 */
import { SignetError } from '../../core/errors.ts';
import {
  admissionReviewResponse,
  parseAdmissionReview,
  reviewUid,
  type AdmissionRequest,
  type AdmissionResponse,
} from './admission-review.ts';
import {
  evaluate,
  policyMatches,
  type Decision,
  type NoMatchPolicy,
  type ResourceInfo,
  type Target,
} from './engine.ts';
import { parseImageReference, type ImageReference } from './glob.ts';
import type { Policy } from './types.ts';
import { imageEvidence, imageTarget, type GatheredImage } from './image.ts';
import type { ObjectPart } from './cel-env.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

/** Resolves images and gathers their signatures and attestations (client/oci in production). */
export interface ImageEvidenceProvider {
  /**
   * The digest the reference names now: `registry/repository@sha256:…` as policy globs see it.
   * Every request gives up at `deadline` (epoch ms).
   */
  resolve(ref: ImageReference, deadline: number): Promise<string>;
  /** What the registry has for that digest: its signatures and attestations (and configs). */
  gather(ref: ImageReference, digestName: string, deadline: number): Promise<GatheredImage>;
}

/** `registry/repository@digest` for a reference that names its digest. */
export function digestNameOf(ref: ImageReference): string | undefined {
  return ref.digest ? `${ref.registry}/${ref.repository}@${ref.digest}` : undefined;
}

export interface AdmissionOptions {
  policies: Policy[];
  images: ImageEvidenceProvider;
  /** An image no policy covers (and an object with no images): default deny. */
  noMatch?: NoMatchPolicy;
  /** How long an allowed decision about a digest is reused (default 60 s). */
  cacheTtlMs?: number;
  /** Most decisions kept (default 10,000). */
  cacheMax?: number;
  /** Upper bound on one review, below the webhook's own timeout (default 9 s). */
  timeoutMs?: number;
  now?: () => number;
}

interface CacheEntry {
  expires: number;
  decision: Decision;
}

class TimeoutError extends Error {}

const TAG_ONLY =
  'names a tag, not a digest: the tag can name another image by the time the node pulls it, so the image must be pinned (IMAGE:TAG@sha256:..., which POST /mutate writes when it is registered)';

/**
 * policy-controller's rule: a decision about a tag holds only until the tag moves, and the node
 * pulls later, so an image that policies cover must name its digest (/mutate pins tags first).
 * Denied under an enforcing policy, a warning under warn-mode policies only.
 */
function tagOnly(image: string, d: Decision): 'deny' | 'warn' | undefined {
  if (d.policies.length === 0 || parseImageReference(image, 'image').digest) return undefined;
  return d.policies.some((p) => p.mode === 'enforce') ? 'deny' : 'warn';
}

/** The request of a review, or the answer that refuses it as malformed (naming the field). */
function readReview(
  body: unknown,
): { req: AdmissionRequest } | { answer: Record<string, unknown> } {
  try {
    return { req: parseAdmissionReview(body) };
  } catch (e) {
    return {
      answer: admissionReviewResponse({
        uid: reviewUid(body),
        allowed: false,
        status: {
          code: 400,
          reason: 'BadRequest',
          message: `malformed AdmissionReview: ${(e as Error).message}`,
        },
      }),
    };
  }
}

export class AdmissionController {
  readonly policies: Policy[];
  private readonly images: ImageEvidenceProvider;
  private readonly noMatch: NoMatchPolicy;
  private readonly ttl: number;
  private readonly max: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<Decision>>();
  private readonly digestGlobs: boolean;
  private readonly selectors: boolean;
  /** The object parts some policy condition sees: decisions then depend on them too. */
  private readonly objectParts: ObjectPart[];
  stats = { reviews: 0, cacheHits: 0, evaluations: 0, timeouts: 0 };

  constructor(o: AdmissionOptions) {
    this.policies = o.policies;
    this.images = o.images;
    this.noMatch = o.noMatch ?? 'deny';
    this.ttl = o.cacheTtlMs ?? 60_000;
    this.max = o.cacheMax ?? 10_000;
    this.timeoutMs = o.timeoutMs ?? 9_000;
    this.now = o.now ?? Date.now;
    this.digestGlobs = o.policies.some((p) => p.images.some((g) => g.source.includes('@')));
    this.selectors = o.policies.some((p) => p.match.some((m) => m.selector !== undefined));
    // An image's config is the digest's (in the key already); the object's parts are not.
    this.objectParts = [
      ...new Set(o.policies.flatMap((p) => p.includes.filter((x) => x !== 'config'))),
    ];
  }

  /** An AdmissionReview in, an AdmissionReview out; never throws. */
  async review(body: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    this.stats.reviews++;
    const read = readReview(body);
    if ('answer' in read) return read.answer;
    const req = read.req;
    try {
      return admissionReviewResponse(
        await this.decide(req, Math.min(timeoutMs ?? this.timeoutMs, this.timeoutMs)),
      );
    } catch (e) {
      // Fail closed on anything unexpected, with the reason.
      return admissionReviewResponse({
        uid: req.uid,
        allowed: false,
        status: {
          code: 500,
          reason: 'InternalError',
          message: `signet admission: ${(e as Error).message}`,
        },
      });
    }
  }

  /**
   * The mutating webhook (policy-controller's tag resolution): every image named by a tag is
   * pinned to `registry/repository:tag@digest`, the digest the tag names now, so the node runs
   * what /validate then decides rather than whatever the tag names later. It never denies: an
   * image it cannot resolve is left as written (with a warning), and /validate refuses a tag
   * that an enforcing policy covers.
   */
  async mutate(body: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    const read = readReview(body);
    if ('answer' in read) return read.answer;
    const req = read.req;
    const end = Date.now() + Math.min(timeoutMs ?? this.timeoutMs, this.timeoutMs);
    const resolved = new Map<string, Promise<string | Error | undefined>>();
    const pin = (image: string) => {
      let p = resolved.get(image);
      if (!p) {
        p = (async () => {
          const ref = parseImageReference(image, 'image');
          if (ref.digest) return undefined;
          const name = await this.images.resolve(ref, end);
          return `${ref.name}${name.slice(name.lastIndexOf('@'))}`;
        })().catch((e: unknown) => e as Error);
        resolved.set(image, p);
      }
      return p;
    };
    const patch: NonNullable<AdmissionResponse['patch']> = [];
    const warnings: string[] = [];
    const images = req.ignored ? [] : req.images;
    const pins = await Promise.all(images.map((c) => pin(c.image)));
    for (const [i, c] of images.entries()) {
      const r = pins[i];
      const where = c.field.replace(/^request\.object\./, '');
      if (r instanceof Error)
        warnings.push(`${where} ${c.image}: not pinned to a digest: ${withoutImage(r, c.image)}`);
      else if (r !== undefined) patch.push({ op: 'replace', path: c.pointer, value: r });
    }
    const out: AdmissionResponse = { uid: req.uid, allowed: true, patch };
    if (warnings.length > 0) out.warnings = warnings;
    return admissionReviewResponse(out);
  }

  async decide(req: AdmissionRequest, timeoutMs: number): Promise<AdmissionResponse> {
    // A pod a controller creates has no name yet (generateName): said so, not left blank.
    const what =
      `${req.kind} ${req.namespace ? `${req.namespace}/` : ''}${req.name || '<generated name>'}`.trim();
    if (req.ignored) return { uid: req.uid, allowed: true };
    if (req.images.length === 0) {
      const message = `${what} names no container images`;
      if (this.noMatch === 'deny')
        return {
          uid: req.uid,
          allowed: false,
          status: { code: 403, reason: 'Forbidden', message },
        };
      return {
        uid: req.uid,
        allowed: true,
        ...(this.noMatch === 'warn' ? { warnings: [message] } : {}),
      };
    }
    const errors: string[] = [];
    const warnings: string[] = [];
    // One decision per distinct image; each container is reported.
    const byImage = new Map<string, string[]>();
    for (const c of req.images) byImage.set(c.image, [...(byImage.get(c.image) ?? []), c.field]);
    // Requests, verification and conditions share one deadline; the race is the backstop for
    // anything that would not stop by itself.
    const end = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
    });
    const results = new Map<string, Decision | Error>();
    const work = [...byImage.keys()].map(async (image) => {
      try {
        results.set(image, await this.decideImage(image, req.resource, end));
      } catch (e) {
        results.set(image, e as Error);
      }
    });
    try {
      await Promise.race([Promise.all(work), deadline]);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      this.stats.timeouts++;
    } finally {
      clearTimeout(timer);
    }
    for (const [image, fields] of byImage) {
      const where = `${fields[0]!.replace(/^request\.object\./, '')} ${image}`;
      const r = results.get(image);
      if (r === undefined || r instanceof Error) {
        // Not decided (out of time, registry unreachable): denied where an enforcing policy
        // covers it (or none does, under no-match deny), a warning under warn-mode policies.
        // A reference that is not one is always denied.
        // A request the deadline cut off says so by its code: its timer may fire a few ms
        // before the clock reaches `end` (timers count from the event loop's cached time).
        const late =
          r === undefined ||
          Date.now() >= end ||
          (r instanceof SignetError && r.code === 'DEADLINE_EXCEEDED');
        const msg = late
          ? `verification did not finish within ${timeoutMs} ms${r ? ` (${withoutImage(r, image)})` : ''}`
          : withoutImage(r, image);
        const covering = this.coveringPolicies(image, req.resource);
        if (
          (r instanceof SignetError && r.code === 'INVALID_INPUT') ||
          covering.some((p) => p.mode === 'enforce') ||
          (covering.length === 0 && this.noMatch === 'deny')
        )
          errors.push(`${where}: ${msg}`);
        else warnings.push(`${where}: ${msg}`);
      } else {
        for (const e of r.errors) errors.push(`${where}: ${e}`);
        for (const w of r.warnings) warnings.push(`${where}: ${w}`);
        const tag = tagOnly(image, r);
        if (tag) (tag === 'deny' ? errors : warnings).push(`${where}: ${TAG_ONLY}`);
      }
    }
    const out: AdmissionResponse = { uid: req.uid, allowed: errors.length === 0 };
    if (errors.length > 0)
      out.status = {
        code: 403,
        reason: 'Forbidden',
        message: `${what} is denied by signet: ${errors.join('; ')}`,
      };
    if (warnings.length > 0) out.warnings = warnings;
    return out;
  }

  private coveringPolicies(image: string, resource: ResourceInfo): Policy[] {
    try {
      const ref = parseImageReference(image, 'image');
      return this.policies.filter((p) => policyMatches(p, { kind: 'image', ref }, resource));
    } catch {
      return [];
    }
  }

  /** The decision about one image (cached per digest while it is allowed). */
  async decideImage(image: string, resource: ResourceInfo, deadline: number): Promise<Decision> {
    const ref = parseImageReference(image, 'image');
    // The cache key holds all a decision depends on: with conditions over the object, its
    // included parts (by digest).
    const objectKey =
      this.objectParts.length === 0
        ? ''
        : createHash('sha256')
            .update(JSON.stringify(this.objectParts.map((p) => resource.object?.[p] ?? null)))
            .digest('hex');
    const scope = `${resource.group}/${resource.version}/${resource.resource}${this.selectors ? JSON.stringify(resource.labels) : ''}${objectKey}`;
    const target: Target = { kind: 'image', ref };
    // An image no policy covers needs no registry round trip (unless globs pin digests).
    if (!this.digestGlobs || ref.digest) {
      if (!this.policies.some((p) => policyMatches(p, target, resource)))
        return evaluate(this.policies, target, [], { noMatch: this.noMatch, resource });
    }
    // Tags are resolved on every review (a tag can move); decisions are cached per digest.
    const digestName = digestNameOf(ref) ?? (await this.images.resolve(ref, deadline));
    const key = `${ref.original}|${digestName}|${scope}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) {
      this.stats.cacheHits++;
      return hit.decision;
    }
    const running = this.inflight.get(key);
    if (running) return running;
    const p = (async () => {
      this.stats.evaluations++;
      const g = await this.images.gather(ref, digestName, deadline);
      const d = await evaluate(this.policies, imageTarget(ref, digestName, g), imageEvidence(g), {
        noMatch: this.noMatch,
        resource,
        deadline,
      });
      // A decision that may have been cut short by the deadline is not kept.
      if (d.allowed && Date.now() < deadline) this.remember(key, d);
      return d;
    })();
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }

  private remember(key: string, decision: Decision): void {
    if (this.ttl <= 0) return;
    this.cache.delete(key);
    this.cache.set(key, { expires: this.now() + this.ttl, decision });
    while (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value!);
  }
}

/**
 * An error's message without the image reference it starts with (the registry's and the
 * verifier's errors name the image; the verdict names it already, with the field).
 */
function withoutImage(e: Error, image: string): string {
  return e.message.startsWith(`${image}: `) ? e.message.slice(image.length + 2) : e.message;
}
