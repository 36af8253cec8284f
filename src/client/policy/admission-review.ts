/**
 * Kubernetes AdmissionReview v1 (admission.k8s.io/v1): the request the API server sends to a
 * validating webhook, read into what the policy engine needs (every container, init container
 * and ephemeral container image, and every image volume, of a Pod or of a workload's pod
 * template), and the response.
 * Pure; a malformed review is an error naming the field, never a crash.
 */
import { invalid } from '../../core/errors.ts';
import type { ResourceInfo } from './engine.ts';
import { ownEntry } from '../../core/own.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface ContainerImage {
  /** Field path of the image in the review, e.g. `request.object.spec.containers[0].image`. */
  field: string;
  /** The same place as a JSON pointer into the object (for a JSON patch), e.g. `/spec/containers/0/image`. */
  pointer: string;
  image: string;
}

export interface AdmissionRequest {
  uid: string;
  operation: string;
  namespace: string;
  name: string;
  kind: string;
  resource: ResourceInfo;
  images: ContainerImage[];
  /** True when the request is not about a kind of object we check (allowed as is). */
  ignored: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  /** A mutating webhook's changes: a JSON patch (RFC 6902) of the object. */
  patch?: Array<{ op: 'replace'; path: string; value: string }>;
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Obj, k: string, path: string): Obj {
  const v = o[k];
  if (!isObj(v))
    throw invalid(`${path}.${k}`, v === undefined ? 'is missing' : 'must be an object');
  return v;
}

function text(o: Obj, k: string, path: string, required = true): string {
  const v = o[k];
  if (v === undefined && !required) return '';
  if (typeof v !== 'string') throw invalid(`${path}.${k}`, 'must be a string');
  return v;
}

/** Where each checked resource keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  pods: ['spec'],
  deployments: ['spec', 'template', 'spec'],
  replicasets: ['spec', 'template', 'spec'],
  statefulsets: ['spec', 'template', 'spec'],
  daemonsets: ['spec', 'template', 'spec'],
  jobs: ['spec', 'template', 'spec'],
  cronjobs: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'];

/** Every image in a pod spec (containers, init containers, ephemeral containers, image volumes). */
export function podSpecImages(spec: Obj, path: string, pointer: string): ContainerImage[] {
  const out: ContainerImage[] = [];
  for (const list of CONTAINER_LISTS) {
    const v = spec[list];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) throw invalid(`${path}.${list}`, 'must be a list');
    v.forEach((c, i) => {
      const p = `${path}.${list}[${i}]`;
      if (!isObj(c)) throw invalid(p, 'must be an object');
      const image = c.image;
      if (image === undefined || image === null || image === '')
        throw invalid(`${p}.image`, 'is missing: every container must name its image');
      if (typeof image !== 'string')
        throw invalid(`${p}.image`, `must be a string, found ${JSON.stringify(image)}`);
      out.push({ field: `${p}.image`, pointer: `${pointer}/${list}/${i}/image`, image });
    });
  }
  // Image volumes (Kubernetes 1.31+) are images the pod runs on too: an OCI artifact mounted
  // as files. A workload template may leave the reference for a controller to fill in.
  const volumes = spec.volumes;
  if (volumes !== undefined && volumes !== null) {
    if (!Array.isArray(volumes)) throw invalid(`${path}.volumes`, 'must be a list');
    volumes.forEach((v, i) => {
      const p = `${path}.volumes[${i}]`;
      if (!isObj(v)) throw invalid(p, 'must be an object');
      if (v.image === undefined || v.image === null) return;
      if (!isObj(v.image)) throw invalid(`${p}.image`, 'must be an object');
      const ref = v.image.reference;
      if (ref === undefined || ref === null || ref === '') return;
      if (typeof ref !== 'string') throw invalid(`${p}.image.reference`, 'must be a string');
      out.push({
        field: `${p}.image.reference`,
        pointer: `${pointer}/volumes/${i}/image/reference`,
        image: ref,
      });
    });
  }
  return out;
}

const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

const SCALABLE = new Set(['deployments', 'replicasets', 'statefulsets']);

function at(o: unknown, keys: string[]): unknown {
  let v = o;
  for (const k of keys) v = isObj(v) ? v[k] : undefined;
  return v;
}

/**
 * Whether an UPDATE can start containers, as policy-controller skips the rest: an object being
 * deleted (its finalizers must still be removable), and a scale-down. Unlike policy-controller, a
 * scale-down is let through only when the pod template is unchanged (a lower replica count
 * together with a new image is decided as any update).
 */
function isChangeThatRuns(resource: string, object: Obj, oldObject: unknown): boolean {
  if (at(object, ['metadata', 'deletionTimestamp']) != null) return false;
  if (!SCALABLE.has(resource)) return true;
  const replicas = at(object, ['spec', 'replicas']);
  const before = at(oldObject, ['spec', 'replicas']);
  if (typeof replicas !== 'number' || typeof before !== 'number' || replicas >= before) return true;
  return (
    JSON.stringify(at(object, ['spec', 'template'])) !==
    JSON.stringify(at(oldObject, ['spec', 'template']))
  );
}

/** Reads an AdmissionReview; errors name the field. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isObj(body)) throw invalid('(body)', 'must be a JSON object (an AdmissionReview)');
  if (body.apiVersion !== ADMISSION_API_VERSION)
    throw invalid(
      'apiVersion',
      `must be ${ADMISSION_API_VERSION}, found ${JSON.stringify(body.apiVersion)}`,
    );
  if (body.kind !== 'AdmissionReview')
    throw invalid('kind', `must be AdmissionReview, found ${JSON.stringify(body.kind)}`);
  const req = field(body, 'request', '');
  const uid = text(req, 'uid', 'request');
  if (uid === '') throw invalid('request.uid', 'must not be empty');
  const operation = text(req, 'operation', 'request');
  // The API server sends only these; anything else is not a review to guess about.
  if (!OPERATIONS.includes(operation))
    throw invalid(
      'request.operation',
      `must be one of ${OPERATIONS.join(', ')}, found ${JSON.stringify(operation)}`,
    );
  const res = field(req, 'resource', 'request');
  const resource: ResourceInfo = {
    group: text(res, 'group', 'request.resource', false),
    version: text(res, 'version', 'request.resource'),
    resource: text(res, 'resource', 'request.resource'),
    labels: {},
  };
  const kind =
    isObj(req.kind) && typeof req.kind.kind === 'string' ? req.kind.kind : resource.resource;
  const base = {
    uid,
    operation,
    namespace: text(req, 'namespace', 'request', false),
    // The API server sets request.name when the object has one; a review written by hand may
    // give it only in the object.
    name: text(req, 'name', 'request', false) || metadataName(req.object),
    kind,
    resource,
  };
  const specPath = ownEntry(POD_SPEC_PATHS, resource.resource);
  const subResource = typeof req.subResource === 'string' ? req.subResource : '';
  // Deletions carry no new object; other resources and subresources (status, scale) run no
  // new images. Ephemeral containers arrive as the pods/ephemeralcontainers subresource.
  if (
    operation === 'DELETE' ||
    operation === 'CONNECT' ||
    !specPath ||
    (subResource !== '' && !(resource.resource === 'pods' && subResource === 'ephemeralcontainers'))
  )
    return { ...base, images: [], ignored: true };
  const object = field(req, 'object', 'request');
  if (operation === 'UPDATE' && !isChangeThatRuns(resource.resource, object, req.oldObject))
    return { ...base, images: [], ignored: true };
  const meta = object.metadata;
  // What a policy condition may include (spec.policy includeSpec, includeObjectMeta,
  // includeTypeMeta), under policy-controller's names.
  resource.object = {
    spec: object.spec ?? null,
    metadata: meta ?? null,
    typemeta: { apiVersion: object.apiVersion ?? null, kind: object.kind ?? null },
  };
  if (isObj(meta) && isObj(meta.labels))
    for (const [k, v] of Object.entries(meta.labels))
      if (typeof v === 'string') resource.labels[k] = v;
  let spec: Obj = object;
  let path = 'request.object';
  for (const k of specPath) {
    spec = field(spec, k, path);
    path = `${path}.${k}`;
  }
  return { ...base, images: podSpecImages(spec, path, `/${specPath.join('/')}`), ignored: false };
}

/** The AdmissionReview answer the API server reads. */
export function admissionReviewResponse(r: AdmissionResponse): Record<string, unknown> {
  const response: Obj = { uid: r.uid, allowed: r.allowed };
  if (r.status) response.status = r.status;
  if (r.patch && r.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(r.patch)).toString('base64');
  }
  if (r.warnings && r.warnings.length > 0)
    // The API server limits warnings (each at most 256 characters is kept readable).
    response.warnings = r.warnings
      .slice(0, 20)
      .map((w) => (w.length > 500 ? `${w.slice(0, 497)}...` : w));
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** The uid of a review we could not otherwise read, so the answer still pairs with it. */
export function reviewUid(body: unknown): string {
  if (isObj(body) && isObj(body.request) && typeof body.request.uid === 'string')
    return body.request.uid;
  return '';
}

/** object.metadata.name, when it is a string. */
function metadataName(object: unknown): string {
  const meta = isObj(object) ? object.metadata : undefined;
  return isObj(meta) && typeof meta.name === 'string' ? meta.name : '';
}
