// The admission webhook as the API server meets it: real AdmissionReview v1 documents POSTed over
// HTTPS on loopback (a certificate made with openssl here), images pushed to Debian's
// docker-registry and signed through a running stack. Pods and every workload kind, all
// container kinds, warn mode, no-match policy, the cache, malformed reviews, and the deadline
// (a registry that accepts connections and never answers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { selfSigned } from '../../helpers/tls.ts';
import { spawnSync } from 'node:child_process';
import { signImage } from '../../../src/client/oci/index.ts';
import {
  AdmissionController,
  loadPolicies,
  registryEvidence,
  startAdmissionServer,
  type RunningAdmissionServer,
} from '../../../src/client/policy/index.ts';
import {
  pushImage,
  registryMissing,
  startRegistry,
  type TestRegistry,
} from '../../helpers/registry.ts';
import { HUNGRY_CONDITION, nestedComprehensions, policyStack } from './helpers.ts';

const missing = registryMissing();
const opts = { skip: missing ?? false };
let S: Awaited<ReturnType<typeof policyStack>>;
let reg: TestRegistry;
let server: RunningAdmissionServer;
let controller: AdmissionController;
let cert: Buffer;
let good: ReturnType<typeof pushImage>;
let good2: ReturnType<typeof pushImage>;
let unsigned: ReturnType<typeof pushImage>;
let warnOnly: ReturnType<typeof pushImage>;
let hang: net.Server;
let hangHost: string;

/** A self-signed server certificate for 127.0.0.1, as a webhook's caBundle would trust. */
export function makeTls(dir: string): { cert: Buffer; key: Buffer } {
  const { cert, key } = selfSigned(dir, 'IP:127.0.0.1,DNS:localhost');
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
}

export function post(
  url: string,
  body: string | object,
  ca: Buffer,
): Promise<{ status: number; json: any }> {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

let uid = 0;
/** An AdmissionReview as the API server sends it for `kind`, with `podSpec` where that kind keeps it. */
export function review(
  kind: string,
  podSpec: object,
  extra: { operation?: string; labels?: Record<string, string> } = {},
) {
  const k = {
    Pod: ['', 'v1', 'pods'],
    Deployment: ['apps', 'v1', 'deployments'],
    ReplicaSet: ['apps', 'v1', 'replicasets'],
    StatefulSet: ['apps', 'v1', 'statefulsets'],
    DaemonSet: ['apps', 'v1', 'daemonsets'],
    Job: ['batch', 'v1', 'jobs'],
    CronJob: ['batch', 'v1', 'cronjobs'],
    ConfigMap: ['', 'v1', 'configmaps'],
  }[kind]!;
  const template = { metadata: { labels: { app: 'web' } }, spec: podSpec };
  const spec =
    kind === 'Pod'
      ? podSpec
      : kind === 'CronJob'
        ? { schedule: '* * * * *', jobTemplate: { spec: { template } } }
        : kind === 'ConfigMap'
          ? undefined
          : { replicas: 1, selector: { matchLabels: { app: 'web' } }, template };
  const id = `705ab4f5-6393-11e8-b7cc-42010a8000${String(uid++).padStart(2, '0')}`;
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: id,
      kind: { group: k[0], version: k[1], kind },
      resource: { group: k[0], version: k[1], resource: k[2] },
      requestKind: { group: k[0], version: k[1], kind },
      requestResource: { group: k[0], version: k[1], resource: k[2] },
      name: 'web',
      namespace: 'default',
      operation: extra.operation ?? 'CREATE',
      userInfo: {
        username: 'kubernetes-admin',
        groups: ['system:masters', 'system:authenticated'],
      },
      object: {
        apiVersion: k[0] ? `${k[0]}/${k[1]}` : k[1],
        kind,
        metadata: { name: 'web', namespace: 'default', labels: extra.labels ?? {} },
        ...(spec ? { spec } : { data: { a: 'b' } }),
      },
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

const pod = (...images: string[]) => ({
  containers: images.map((image, i) => ({ name: `c${i}`, image })),
});

before(async () => {
  if (missing) return;
  S = await policyStack();
  reg = await startRegistry();
  good = pushImage(reg, 'prod/web', { tag: 'v1' });
  good2 = pushImage(reg, 'prod/sidecar', { tag: 'v1' });
  unsigned = pushImage(reg, 'prod/unsigned', { tag: 'v1' });
  warnOnly = pushImage(reg, 'staging/app', { tag: 'v1' });
  const alice = await S.context('alice@example.com');
  await signImage(good.ref, alice);
  await signImage(good2.ref, alice);
  // a registry host that accepts connections and never answers
  hang = net.createServer(() => {}).listen(0, '127.0.0.1');
  await new Promise((r) => hang.once('listening', r));
  hangHost = `127.0.0.1:${(hang.address() as net.AddressInfo).port}`;
  const f = S.write(
    'admission.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: prod}
spec:
  images: [{glob: "${reg.host}/prod/**"}, {glob: "${hangHost}/enforce/**"}]
  authorities:
    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: staging}
spec:
  mode: warn
  images: [{glob: "${reg.host}/staging/**"}, {glob: "${hangHost}/warn/**"}]
  authorities:
    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
`,
  );
  const policies = await loadPolicies([f], { defaultTrust: { root: S.root, label: 'stack' } });
  controller = new AdmissionController({
    policies,
    images: registryEvidence(policies, { http: { timeoutMs: 5000 } }),
    noMatch: 'deny',
    timeoutMs: 3000,
  });
  const tls = makeTls(S.dir);
  cert = tls.cert;
  server = await startAdmissionServer({
    controller,
    cert: tls.cert,
    key: tls.key,
    port: 0,
    host: '127.0.0.1',
  });
});
after(async () => {
  await server?.close();
  hang?.close();
  await reg?.close();
  await S?.close();
});

test(
  'a Pod whose every image is signed by the right identity is admitted; one unsigned image denies it',
  opts,
  async () => {
    const ok = await post(
      `${server.url}/validate?timeout=10s`,
      review('Pod', pod(`${good.tagRef}@${good.digest}`, good2.ref)),
      cert,
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.json.apiVersion, 'admission.k8s.io/v1');
    assert.equal(ok.json.kind, 'AdmissionReview');
    assert.equal(ok.json.response.allowed, true, JSON.stringify(ok.json.response.status));
    const r = review('Pod', {
      ...pod(good.ref),
      initContainers: [{ name: 'init', image: `${unsigned.tagRef}@${unsigned.digest}` }],
    });
    const no = await post(`${server.url}/validate?timeout=10s`, r, cert);
    assert.equal(no.json.response.uid, r.request.uid);
    assert.equal(no.json.response.allowed, false);
    assert.equal(no.json.response.status.code, 403);
    assert.match(
      no.json.response.status.message,
      /spec\.initContainers\[0\]\.image .*prod\/unsigned:v1@sha256:\w+: policy "prod" fails: no authority is satisfied/,
    );
  },
);

test('every workload kind and container kind is checked', opts, async () => {
  for (const kind of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']) {
    const ok = await post(`${server.url}/validate`, review(kind, pod(good.ref)), cert);
    assert.equal(ok.json.response.allowed, true, `${kind}: ${JSON.stringify(ok.json.response)}`);
    const no = await post(
      `${server.url}/validate`,
      review(kind, {
        ...pod(good.ref),
        ephemeralContainers: [{ name: 'debug', image: unsigned.ref }],
      }),
      cert,
    );
    assert.equal(no.json.response.allowed, false, kind);
    assert.match(no.json.response.status.message, /ephemeralContainers\[0\]\.image/);
    // an image volume (Kubernetes 1.31+) is pulled onto the node like a container image
    const vol = await post(
      `${server.url}/validate`,
      review(kind, {
        ...pod(good.ref),
        volumes: [
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'tmpl', image: {} },
          { name: 'data', image: { reference: unsigned.ref, pullPolicy: 'IfNotPresent' } },
        ],
      }),
      cert,
    );
    assert.equal(vol.json.response.allowed, false, kind);
    assert.match(
      vol.json.response.status.message,
      /spec\.volumes\[2\]\.image\.reference \S+prod\/unsigned@sha256:\w+: policy "prod" fails/,
    );
  }
  const badVolume = await controller.review(
    review('Pod', { ...pod(good.ref), volumes: [{ name: 'v', image: { reference: 7 } }] }),
  );
  assert.match(
    JSON.stringify(badVolume.response),
    /malformed AdmissionReview: request\.object\.spec\.volumes\[0\]\.image\.reference: must be a string/,
  );
  // kinds without pods and deletions pass untouched
  assert.equal(
    (await post(`${server.url}/validate`, review('ConfigMap', {}), cert)).json.response.allowed,
    true,
  );
  assert.equal(
    (
      await post(
        `${server.url}/validate`,
        review('Pod', pod(unsigned.ref), { operation: 'DELETE' }),
        cert,
      )
    ).json.response.allowed,
    true,
  );
});

test(
  'warn mode admits with a warning; images no policy covers follow no-match-policy',
  opts,
  async () => {
    const w = await post(`${server.url}/validate`, review('Pod', pod(warnOnly.tagRef)), cert);
    assert.equal(w.json.response.allowed, true);
    assert.match(w.json.response.warnings[0], /policy "staging" would fail \(warn mode\)/);
    const elsewhere = `${reg.host}/other/app:v1`;
    const d = await post(`${server.url}/validate`, review('Pod', pod(elsewhere)), cert);
    assert.equal(d.json.response.allowed, false);
    assert.match(d.json.response.status.message, /no policy covers/);
    const allow = new AdmissionController({
      policies: controller.policies,
      images: registryEvidence(controller.policies),
      noMatch: 'allow',
    });
    const a = await allow.review(review('Pod', pod(elsewhere)));
    assert.equal((a.response as { allowed: boolean }).allowed, true);
    const none = await allow.review(review('Pod', { containers: [] }));
    assert.equal((none.response as { allowed: boolean }).allowed, true);
    const deny = await controller.review(review('Pod', { containers: [] }));
    assert.match(JSON.stringify(deny.response), /names no container images/);
  },
);

test(
  'no images, and malformed reviews, under each no-match policy: a clear answer, never a crash',
  opts,
  async () => {
    const make = (noMatch: 'allow' | 'warn' | 'deny') =>
      new AdmissionController({
        policies: controller.policies,
        images: registryEvidence(controller.policies),
        noMatch,
      });
    type R = { allowed: boolean; warnings?: string[]; status?: { code: number; message: string } };
    const none = review('Pod', { containers: [] });
    const deny = (await make('deny').review(none)).response as R;
    assert.equal(deny.allowed, false);
    assert.equal(deny.status!.code, 403);
    assert.match(deny.status!.message, /^Pod \S+ names no container images$/);
    // a pod a controller creates has no name yet (generateName): said so, not left blank
    const unnamed = review('Pod', { containers: [] });
    unnamed.request.name = '';
    (unnamed.request as { object: { metadata?: object } }).object.metadata = {
      generateName: 'web-',
    };
    const generated = (await make('deny').review(unnamed)).response as R;
    assert.equal(
      generated.status!.message,
      'Pod default/<generated name> names no container images',
    );
    // a review written by hand may name the object only in its metadata
    const byMetadata = review('Pod', { containers: [] });
    byMetadata.request.name = '';
    (byMetadata.request as { object: { metadata?: object } }).object.metadata = { name: 'p' };
    const named = (await make('deny').review(byMetadata)).response as R;
    assert.equal(named.status!.message, 'Pod default/p names no container images');
    const warn = (await make('warn').review(none)).response as R;
    assert.equal(warn.allowed, true);
    assert.match(warn.warnings![0]!, /names no container images/);
    const allow = (await make('allow').review(none)).response as R;
    assert.deepEqual([allow.allowed, allow.warnings], [true, undefined]);
    // A malformed review is not "no images": denied whatever the no-match policy says.
    for (const m of ['allow', 'warn'] as const) {
      const bad = (
        await make(m).review({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: { uid: 'u1' },
        })
      ).response as R & { uid: string };
      assert.equal(bad.allowed, false, m);
      assert.equal(bad.uid, 'u1');
      assert.match(bad.status!.message, /^malformed AdmissionReview: request\.\S+: /);
    }
    for (const body of [null, 42, [], 'x', { request: 'x' }]) {
      const r = (await make('allow').review(body)).response as R;
      assert.equal(r.allowed, false, JSON.stringify(body));
      assert.match(r.status!.message, /^malformed AdmissionReview: /);
    }
  },
);

test(
  'verified digests are cached for a bounded time; concurrent reviews share one evaluation',
  opts,
  async () => {
    let now = 1_000_000;
    const c = new AdmissionController({
      policies: controller.policies,
      images: registryEvidence(controller.policies),
      cacheTtlMs: 1000,
      now: () => now,
    });
    const r = () => c.review(review('Pod', pod(good.ref, good2.ref)));
    const answers = await Promise.all([r(), r(), r()]);
    for (const a of answers) assert.equal((a.response as { allowed: boolean }).allowed, true);
    assert.equal(c.stats.evaluations, 2, 'two images, evaluated once each');
    await r();
    assert.equal(c.stats.evaluations, 2);
    assert.equal(c.stats.cacheHits, 2);
    now += 1001;
    await r();
    assert.equal(c.stats.evaluations, 4, 'expired entries are evaluated again');
    // a denial is not cached: the image is looked at again next time
    const u = () => c.review(review('Pod', pod(unsigned.ref)));
    await u();
    await u();
    assert.equal(c.stats.evaluations, 6);
  },
);

test(
  'updates that start no containers are let through: an object being deleted, a scale-down of the same template',
  opts,
  async () => {
    type Review = ReturnType<typeof review>;
    const update = (r: Review, old: unknown, change: (o: Record<string, any>) => void): Review => {
      const o = structuredClone(r.request.object) as Record<string, any>;
      change(o);
      return {
        ...r,
        request: { ...r.request, operation: 'UPDATE', object: o as never, oldObject: old as never },
      };
    };
    const allowed = async (r: Review) =>
      (await controller.review(r)).response as { allowed: boolean };
    // a pod whose image a policy now refuses can still have its finalizers removed
    const p = review('Pod', pod(unsigned.ref));
    const terminating = update(p, p.request.object, (o) => {
      o.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
      o.metadata.finalizers = [];
    });
    assert.equal((await allowed(terminating)).allowed, true);
    assert.equal(
      (await allowed(update(p, p.request.object, (o) => (o.metadata.labels = { a: 'b' })))).allowed,
      false,
    );
    // scaling down a Deployment whose image a policy now refuses stops pods, it starts none
    const d = review('Deployment', pod(unsigned.ref));
    const old = structuredClone(d.request.object) as Record<string, any>;
    old.spec.replicas = 3;
    assert.equal((await allowed(update(d, old, (o) => (o.spec.replicas = 1)))).allowed, true);
    assert.equal((await allowed(update(d, old, (o) => (o.spec.replicas = 3)))).allowed, false);
    assert.equal((await allowed(update(d, old, (o) => (o.spec.replicas = 4)))).allowed, false);
    // a lower count with a new template rolls out new pods: decided (policy-controller is not)
    const sneak = update(d, old, (o) => {
      o.spec.replicas = 1;
      o.spec.template.spec.containers[0].image = unsigned.tagRef;
    });
    assert.equal((await allowed(sneak)).allowed, false);
    // a Job has no replicas to scale down: decided
    const j = review('Job', pod(unsigned.ref));
    assert.equal((await allowed(update(j, j.request.object, () => {}))).allowed, false);
  },
);

test(
  '/validate refuses a tag an enforcing policy covers (it can move before the node pulls it), warns under warn mode',
  opts,
  async () => {
    // signed, and the tag names that signed digest now: still not admitted by its tag, as in
    // policy-controller, since the node pulls whatever the tag names then
    const t = await post(`${server.url}/validate`, review('Pod', pod(good.tagRef)), cert);
    assert.equal(t.json.response.allowed, false);
    assert.match(
      t.json.response.status.message,
      /spec\.containers\[0\]\.image \S+prod\/web:v1: names a tag, not a digest: .*POST \/mutate/,
    );
    const pinned = await post(
      `${server.url}/validate`,
      review('Pod', pod(`${good.tagRef}@${good.digest}`)),
      cert,
    );
    assert.equal(pinned.json.response.allowed, true, JSON.stringify(pinned.json.response));
    const w = await post(`${server.url}/validate`, review('Pod', pod(warnOnly.tagRef)), cert);
    assert.equal(w.json.response.allowed, true);
    assert.ok(
      w.json.response.warnings.some((x: string) =>
        /staging\/app:v1: names a tag, not a digest/.test(x),
      ),
      JSON.stringify(w.json.response.warnings),
    );
    // a tag no policy covers follows no-match-policy, as before
    const allow = new AdmissionController({
      policies: controller.policies,
      images: registryEvidence(controller.policies),
      noMatch: 'allow',
    });
    const a = await allow.review(review('Pod', pod(`${reg.host}/other/app:v1`)));
    assert.deepEqual(a.response, { uid: (a.response as { uid: string }).uid, allowed: true });
  },
);

test(
  '/mutate pins every tag to the digest it names now (a JSON patch); /validate then decides that digest',
  opts,
  async () => {
    const missingImage = `${reg.host}/prod/missing:v1`;
    const r = review('Deployment', {
      containers: [
        { name: 'web', image: good.tagRef },
        { name: 'pinned', image: good2.ref },
        { name: 'again', image: good.tagRef },
      ],
      initContainers: [{ name: 'init', image: missingImage }],
      volumes: [{ name: 'data', image: { reference: good2.tagRef } }],
    });
    const m = await post(`${server.url}/mutate?timeout=10s`, r, cert);
    assert.equal(m.status, 200);
    assert.equal(m.json.response.uid, r.request.uid);
    assert.equal(m.json.response.allowed, true);
    assert.equal(m.json.response.patchType, 'JSONPatch');
    const patch = JSON.parse(Buffer.from(m.json.response.patch, 'base64').toString());
    const spec = '/spec/template/spec';
    assert.deepEqual(patch, [
      { op: 'replace', path: `${spec}/containers/0/image`, value: `${good.tagRef}@${good.digest}` },
      { op: 'replace', path: `${spec}/containers/2/image`, value: `${good.tagRef}@${good.digest}` },
      {
        op: 'replace',
        path: `${spec}/volumes/0/image/reference`,
        value: `${good2.tagRef}@${good2.digest}`,
      },
    ]);
    // what cannot be resolved is left for /validate to decide, with a warning
    assert.equal(m.json.response.warnings.length, 1);
    assert.match(
      m.json.response.warnings[0],
      /^spec\.template\.spec\.initContainers\[0\]\.image \S+prod\/missing:v1: not pinned to a digest: /,
    );
    // the image is named once, by the verdict, not again by the registry's reason
    assert.equal(
      m.json.response.warnings[0].split('prod/missing:v1').length,
      2,
      m.json.response.warnings[0],
    );
    // the API server applies the patch, then asks /validate about the pinned images
    const t = (r.request.object as { spec: { template: { spec: unknown } } }).spec.template
      .spec as {
      containers: Array<{ image: string }>;
      initContainers: Array<{ image: string }>;
      volumes: Array<{ image: { reference: string } }>;
    };
    t.containers[0]!.image = patch[0].value;
    t.containers[2]!.image = patch[1].value;
    t.volumes[0]!.image.reference = patch[2].value;
    t.initContainers = [];
    const v = await post(`${server.url}/validate`, r, cert);
    assert.equal(v.json.response.allowed, true, JSON.stringify(v.json.response));
    // an unsigned image is pinned all the same (it is /validate that denies)
    const u = await post(`${server.url}/mutate`, review('Pod', pod(unsigned.tagRef)), cert);
    assert.equal(u.json.response.allowed, true);
    assert.deepEqual(JSON.parse(Buffer.from(u.json.response.patch, 'base64').toString()), [
      {
        op: 'replace',
        path: '/spec/containers/0/image',
        value: `${unsigned.tagRef}@${unsigned.digest}`,
      },
    ]);
    // nothing to pin: no patch; not a pod kind, or a deletion: untouched
    for (const body of [
      review('Pod', pod(good.ref)),
      review('ConfigMap', {}),
      review('Pod', pod(good.tagRef), { operation: 'DELETE' }),
    ]) {
      const n = await post(`${server.url}/mutate`, body, cert);
      assert.deepEqual(n.json.response, { uid: body.request.uid, allowed: true });
    }
    const bad = await post(`${server.url}/mutate`, { apiVersion: 'admission.k8s.io/v1' }, cert);
    assert.equal(bad.json.response.allowed, false);
    assert.match(bad.json.response.status.message, /^malformed AdmissionReview: kind: /);
  },
);

test('malformed reviews are clear denials and the server keeps running', opts, async () => {
  const bad = [
    ['not json', /^malformed AdmissionReview: the body is not valid JSON \(unexpected "o"\)$/],
    [
      { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} },
      /apiVersion: must be admission\.k8s\.io\/v1/,
    ],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request: is missing/],
    [
      {
        ...review('Pod', pod(good.ref)),
        request: { ...review('Pod', pod(good.ref)).request, object: { spec: { containers: 'x' } } },
      },
      /request\.object\.spec\.containers: must be a list/,
    ],
    [review('Pod', { containers: [{ name: 'x' }] }), /containers\[0\]\.image: is missing/],
    [
      review('Pod', { containers: [{ name: 'x', image: 5 }] }),
      /containers\[0\]\.image: must be a string, found 5$/,
    ],
    // an operation the API server never sends is not decided as a CREATE (or let through)
    [
      review('Pod', pod(good.ref), { operation: 'PATCH' }),
      /request\.operation: must be one of CREATE, UPDATE, DELETE, CONNECT, found "PATCH"$/,
    ],
    [
      review('Pod', pod(good.ref), { operation: 'create' }),
      /request\.operation: must be one of .*found "create"$/,
    ],
    [review('Pod', pod('NOT A REFERENCE')), /is not an image reference/],
  ] as const;
  for (const [body, re] of bad) {
    const r = await post(`${server.url}/validate`, body as object, cert);
    assert.equal(r.status, 200);
    assert.equal(r.json.response.allowed, false, JSON.stringify(body));
    assert.match(r.json.response.status.message, re);
  }
  // Answered with a 413 the client can read, not a reset connection.
  const big = await post(`${server.url}/validate`, 'x'.repeat(9 * 1024 * 1024), cert);
  assert.equal(big.status, 413);
  assert.match(
    big.json.response.status.message,
    /the AdmissionReview is larger than 8388608 bytes/,
  );
  const health = await new Promise<number>((resolve) =>
    https.get(`${server.url}/healthz`, { ca: cert }, (res) => resolve(res.statusCode!)),
  );
  assert.equal(health, 200);
});

test('an evaluation that does not finish in time is a denial in enforce mode', opts, async () => {
  const t0 = Date.now();
  const r = await post(
    `${server.url}/validate?timeout=2s`,
    review('Pod', pod(good.ref, `${hangHost}/enforce/app:v1`)),
    cert,
  );
  const took = Date.now() - t0;
  assert.equal(r.json.response.allowed, false);
  assert.match(
    r.json.response.status.message,
    /spec\.containers\[1\]\.image \S+\/enforce\/app:v1: verification did not finish within \d+ ms/,
  );
  assert.ok(took < 2000, `answered within the webhook's timeout (${took} ms)`);
});

test('an evaluation that does not finish in time is a warning in warn mode', opts, async () => {
  const t0 = Date.now();
  const r = await post(
    `${server.url}/validate?timeout=2s`,
    review('Pod', pod(good.ref, `${hangHost}/warn/app:v1`)),
    cert,
  );
  const took = Date.now() - t0;
  assert.equal(r.json.response.allowed, true, JSON.stringify(r.json.response.status));
  assert.equal(r.json.response.warnings.length, 1);
  assert.match(
    r.json.response.warnings[0],
    /\/warn\/app:v1: verification did not finish within \d+ ms/,
  );
  assert.ok(took < 2000, `answered within the webhook's timeout (${took} ms)`);
});

test(
  'a registry request the deadline cut off is reported as out of time, whatever the clock says',
  opts,
  async () => {
    // A request's timer counts from the event loop's cached clock and may fire a few ms before
    // Date.now() reaches the review's end; here its deadline is moved 300 ms early so that this
    // always happens, against the same hanging registry.
    const real = registryEvidence(controller.policies, { http: { timeoutMs: 5000 } });
    const early = new AdmissionController({
      policies: controller.policies,
      images: {
        resolve: (ref, deadline) => real.resolve(ref, deadline - 300),
        gather: (ref, digestName, deadline) => real.gather(ref, digestName, deadline - 300),
      },
    });
    const r = (await early.review(review('Pod', pod(`${hangHost}/warn/app:v1`)), 1000))
      .response as { allowed: boolean; warnings?: string[] };
    assert.equal(r.allowed, true, JSON.stringify(r));
    assert.equal(r.warnings?.length, 1);
    assert.match(r.warnings[0]!, /\/warn\/app:v1: verification did not finish within 1000 ms \(/);
    // the image is named once, by the verdict, not again by the registry's reason
    assert.equal(r.warnings[0]!.split('/warn/app:v1').length, 2, r.warnings[0]);
  },
);

test(
  'policy verify --timeout bounds the registry: enforce denies, warn admits with a warning',
  opts,
  async () => {
    const policy = path.join(S.dir, 'admission.yaml');
    const run = (image: string) => {
      const t0 = Date.now();
      const r = spawnSync(
        path.resolve('bin/signet'),
        [
          'policy',
          'verify',
          '--policy',
          policy,
          '--trusted-root',
          path.join(S.dir, 'trusted_root.json'),
          '--timeout',
          // The deadline counts from the command's start (as cosign's): under load, loading
          // the policy code took a second, and 1s then ran out before the registry was asked.
          '3s',
          image,
        ],
        { encoding: 'utf8' },
      );
      return { ...r, took: Date.now() - t0 };
    };
    const enforce = run(`${hangHost}/enforce/app:v1`);
    assert.equal(enforce.status, 1, enforce.stderr);
    assert.match(enforce.stderr, /policy "prod" fails: .*cannot reach .* no answer within/);
    // the image is named by the decision, not again inside the registry's reason
    assert.match(enforce.stderr, /registry \([^)]+\): cannot reach /);
    assert.ok(enforce.took < 8000, `stopped at the deadline (${enforce.took} ms)`);
    const warn = run(`${hangHost}/warn/app:v1`);
    assert.equal(warn.status, 0, warn.stderr);
    // in the text report (once), not again on stderr
    assert.match(
      warn.stdout,
      /warning: policy "staging" would fail \(warn mode\): .*no answer within/,
    );
    assert.doesNotMatch(warn.stderr, /warning:/);
    assert.match(
      spawnSync(path.resolve('bin/signet'), ['policy', 'verify', '--timeout', 'soon', 'x'], {
        encoding: 'utf8',
      }).stderr,
      /--timeout.*"soon" is not a positive duration/,
    );
  },
);

/**
 * A policy for the images under `<registry>/<name>/`: signed by alice, and `cel` must hold.
 */
function conditionPolicy(name: string, cel: string): string {
  return `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: ${name}}
spec:
  images: [{glob: "${reg.host}/${name}/**"}]
  authorities:
    - name: people
      keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
  policy: {type: cel, data: ${JSON.stringify(cel)}}
`;
}

/** `signet admission` with the policy, certificate and key these tests write. */
const SERVE = [
  'admission',
  '--policy',
  'admission.yaml',
  '--tls-cert',
  'tls.crt',
  '--tls-key',
  'tls.key',
] as const;

test('signet admission serves the policies over HTTPS until stopped', opts, async () => {
  const { spawn } = await import('node:child_process');
  const bin = path.resolve('bin/signet');
  // A condition that builds lists of lists until stopped: --cel-memory 128 must stop it.
  const hungryImage = pushImage(reg, 'hungry/app', { tag: 'v1' });
  await signImage(hungryImage.ref, await S.context('alice@example.com'));
  S.write('admission-hungry.yaml', conditionPolicy('hungry', HUNGRY_CONDITION));
  const p = spawn(
    bin,
    [
      'admission',
      '--policy',
      'admission.yaml',
      '--policy',
      'admission-hungry.yaml',
      '--tls-cert',
      'tls.crt',
      '--tls-key',
      'tls.key',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--trusted-root',
      'trusted_root.json',
      '--no-match-policy',
      'warn',
      '--cel-memory',
      '128',
    ],
    { cwd: S.dir },
  );
  let out = '';
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    p.stdout.on('data', (d) => {
      out += d;
      const m = /up at (https:\/\/\S+)\/validate/.exec(out);
      if (m) resolve(m[1]!);
    });
    p.on('close', () => reject(new Error(`exited: ${err}`)));
  });
  after(() => p.kill());
  // On one address, the banner's URL is all there is to say.
  assert.doesNotMatch(out, /every address/);
  const ok = await post(
    `${url}/validate?timeout=10s`,
    review('Deployment', pod(`${good.tagRef}@${good.digest}`)),
    cert,
  );
  assert.equal(ok.json.response.allowed, true, JSON.stringify(ok.json.response));
  const w = await post(`${url}/validate`, review('Pod', pod(`${reg.host}/other/x:v1`)), cert);
  assert.equal(w.json.response.allowed, true);
  assert.match(w.json.response.warnings[0], /no policy covers/);
  const hungry = await post(`${url}/validate`, review('Pod', pod(hungryImage.ref)), cert);
  assert.equal(hungry.json.response.allowed, false);
  assert.match(
    hungry.json.response.status.message,
    /policy "hungry" fails: .*used more than 128 MB of memory \(evaluation is bounded in memory\)/,
  );
  const closed = new Promise((r) => p.once('close', r));
  p.kill('SIGTERM');
  assert.equal(await closed, 0);
  const { spawnSync: sync } = await import('node:child_process');
  const bad = sync(bin, ['admission', '--policy', 'admission.yaml', '--tls-key', 'tls.key'], {
    cwd: S.dir,
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: --tls-cert: is required/);
  for (const v of ['8', 'lots', '1.5']) {
    const r = sync(bin, [...SERVE, '--cel-memory', v], { cwd: S.dir, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(
      r.stderr,
      `error: --cel-memory: "${v}" is not a whole number of MB of at least 16\n`,
    );
  }
  // The certificate and key swapped, or a key of another certificate: named before serving.
  const fs2 = await import('node:fs');
  const { generateKeyPairSync: gen } = await import('node:crypto');
  fs2.writeFileSync(
    path.join(S.dir, 'other.key'),
    gen('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  for (const [certFile, keyFile, want] of [
    ['tls.key', 'tls.crt', /^error: --tls-cert tls\.key: holds no certificate \(PEM\)\n$/],
    ['tls.crt', 'tls.crt', /^error: --tls-key tls\.crt: holds no private key \(PEM\)\n$/],
    ['tls.crt', 'other.key', /^error: --tls-key: is not the key of --tls-cert\n$/],
  ] as const) {
    const r = sync(
      bin,
      ['admission', '--policy', 'admission.yaml', '--tls-cert', certFile, '--tls-key', keyFile],
      { cwd: S.dir, encoding: 'utf8' },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, want);
  }
  // A bad --host is named as such, not blamed on the certificate.
  for (const [host, want] of [
    ['999.1.1.1', /^error: --host: "999\.1\.1\.1" is not a valid address: /],
    [
      '192.0.2.1',
      /^error: --host: 192\.0\.2\.1 is not an address of this machine; choose another host\n$/,
    ],
  ] as const) {
    const h = sync(
      bin,
      [...SERVE, '--trusted-root', 'trusted_root.json', '--port', '0', '--host', host],
      { cwd: S.dir, encoding: 'utf8' },
    );
    assert.equal(h.status, 1, h.stderr);
    assert.match(h.stderr, want);
  }
});

test(
  'signet admission on every address (its default --host) says so beside the loopback URL it prints',
  opts,
  async () => {
    const { spawn } = await import('node:child_process');
    const p = spawn(
      path.resolve('bin/signet'),
      [...SERVE, '--trusted-root', 'trusted_root.json', '--port', '0'],
      { cwd: S.dir },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        p.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out);
        });
        p.on('close', () => reject(new Error(`exited before its banner: ${out}`)));
      });
      assert.match(
        line,
        /^signet admission is up at https:\/\/127\.0\.0\.1:\d+\/validate and \S+\/mutate \(listening on every address \(--host 0\.0\.0\.0\), \d+ polic/,
      );
    } finally {
      p.kill();
    }
  },
);

test(
  'a review whose policy condition runs long does not hold up the reviews that come meanwhile',
  opts,
  async () => {
    const slowImage = pushImage(reg, 'slow/app', { tag: 'v1' });
    await signImage(slowImage.ref, await S.context('alice@example.com'));
    const f = S.write(
      'admission-slow.yaml',
      `${conditionPolicy('slow', nestedComprehensions(5))}---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: prod}
spec:
  images: [{glob: "${reg.host}/prod/**"}]
  authorities:
    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
`,
    );
    const policies = await loadPolicies([f], { defaultTrust: { root: S.root, label: 'stack' } });
    const tls = makeTls(S.dir);
    const own = await startAdmissionServer({
      controller: new AdmissionController({
        policies,
        images: registryEvidence(policies, { http: { timeoutMs: 5000 } }),
        noMatch: 'deny',
        timeoutMs: 3000,
      }),
      cert: tls.cert,
      key: tls.key,
      port: 0,
      host: '127.0.0.1',
    });
    try {
      const t0 = Date.now();
      let slowAnswered = 0;
      const slow = post(
        `${own.url}/validate?timeout=4s`,
        review('Pod', pod(slowImage.ref)),
        tls.cert,
      ).then((r) => ((slowAnswered = Date.now() - t0), r));
      // Let its condition start, then review another pod.
      await new Promise((r) => setTimeout(r, 300));
      const other = await post(`${own.url}/validate`, review('Pod', pod(good.ref)), tls.cert);
      const otherAnswered = Date.now() - t0;
      assert.equal(other.json.response.allowed, true, JSON.stringify(other.json.response));
      assert.equal(slowAnswered, 0, `the other pod was answered first (at ${otherAnswered} ms)`);
      const s = await slow;
      assert.equal(s.json.response.allowed, false);
      assert.match(
        s.json.response.status.message,
        /slow\/app@sha256:\w+: (policy "slow" fails: .*condition did not finish before the deadline|verification did not finish within)/,
      );
    } finally {
      await own.close();
    }
  },
);

test(
  'spec.policy includeSpec, includeObjectMeta, includeTypeMeta: the condition sees the admitted object, and the cache keys on it',
  opts,
  async () => {
    const f = S.write(
      'admission-object.yaml',
      `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: prod-namespace}
spec:
  images: [{glob: "${reg.host}/prod/**"}]
  authorities:
    - name: alice
      keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}
  policy:
    type: cel
    includeSpec: true
    includeObjectMeta: true
    includeTypeMeta: true
    data: 'metadata.namespace == "prod" && typemeta.kind == "Pod" && spec.containers.size() == 1 && "alice" in authorityMatches'
`,
    );
    const policies = await loadPolicies([f], { defaultTrust: { root: S.root, label: 'stack' } });
    assert.deepEqual(policies[0]!.includes.sort(), ['metadata', 'spec', 'typemeta']);
    // Cache on: a decision for one object must not answer for another.
    const c = new AdmissionController({
      policies,
      images: registryEvidence(policies, { http: { timeoutMs: 5000 } }),
      noMatch: 'deny',
      timeoutMs: 3000,
      cacheTtlMs: 60_000,
    });
    const inNamespace = (ns: string, images: string[]) => {
      const r = review('Pod', pod(...images)) as {
        request: { object: { metadata: { namespace: string } } };
      };
      r.request.object.metadata.namespace = ns;
      return r;
    };
    const allowed = async (r: unknown) =>
      ((await c.review(r)) as { response: { allowed: boolean } }).response.allowed;
    assert.equal(await allowed(inNamespace('prod', [good.ref])), true);
    assert.equal(await allowed(inNamespace('dev', [good.ref])), false);
    assert.equal(
      await allowed(inNamespace('prod', [good.ref, good2.ref])),
      false,
      'two containers',
    );
    assert.equal(await allowed(inNamespace('prod', [good.ref])), true);
  },
);
