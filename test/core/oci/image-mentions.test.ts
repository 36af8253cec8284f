import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  baseImageOfDockerfile,
  imagesInDockerfile,
  imagesInKubernetesManifest,
} from '../../../src/core/oci/image-mentions.ts';

test('a Dockerfile: FROM and COPY --from images in order; stages, scratch and flags are not images', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    'ARG GO=1.22',
    'ARG BASE',
    'FROM --platform=$BUILDPLATFORM golang:${GO} AS build',
    'COPY --from=build /out /out',
    'COPY --from=0 /a /a',
    'COPY --from=ghcr.io/org/tools:1 /bin/tool /bin/tool',
    'from build as test',
    'FROM scratch',
    'ENV REG=registry.example:5000',
    'FROM $REG/app/base:${TAG:-latest}',
    'FROM ${BASE:-debian:12}',
    'FROMAGE is not an instruction',
  ].join('\n');
  assert.deepEqual(imagesInDockerfile(text, {}), [
    'golang:1.22',
    'ghcr.io/org/tools:1',
    'registry.example:5000/app/base:latest',
    'debian:12',
  ]);
  // Build args the Dockerfile leaves without a value come from the environment.
  assert.deepEqual(imagesInDockerfile('ARG BASE\nFROM $BASE', { BASE: 'alpine:3' }), ['alpine:3']);
  assert.deepEqual(imagesInDockerfile('FROM alpine:3 AS a\nFROM a'), ['alpine:3']);
});

test('the base image is the last FROM image, not a COPY --from image after it', () => {
  const text = 'FROM reg.example/two:latest\nCOPY --from=reg.example/tools:1 /hi.txt /\n';
  assert.deepEqual(baseImageOfDockerfile(text), ['reg.example/two:latest']);
  assert.deepEqual(imagesInDockerfile(text), ['reg.example/two:latest', 'reg.example/tools:1']);
  // a last stage from scratch or an earlier stage: the last FROM that named an image
  assert.deepEqual(baseImageOfDockerfile('FROM alpine:3 AS a\nFROM a\nFROM scratch'), ['alpine:3']);
  assert.deepEqual(baseImageOfDockerfile('FROM scratch'), []);
});

test('a Dockerfile line that names no image is one error with its line number', () => {
  assert.throws(() => imagesInDockerfile('ARG BASE\nFROM $BASE', {}, 'Dockerfile'), {
    message:
      'Dockerfile: line 2: no image after FROM (is a build arg missing from the environment?)',
  });
  assert.throws(() => imagesInDockerfile('FROM alpine AS', {}, 'Dockerfile'), {
    message: 'Dockerfile: line 1: expected a stage name after AS',
  });
});

test('a Kubernetes manifest: pods, pod templates and cron jobs, several documents or JSON', () => {
  const yaml = `
apiVersion: v1
kind: Pod
spec:
  initContainers: [{name: init, image: "busybox:1"}]
  containers: [{name: a, image: "nginx:1"}, {name: b}]
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/org/app@sha256:${'ab'.repeat(32)}
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: "registry.example/job:2"}]
---
apiVersion: v1
kind: ConfigMap
data: {image: "not-a-workload:1"}
`;
  assert.deepEqual(imagesInKubernetesManifest(yaml), [
    'busybox:1',
    'nginx:1',
    `ghcr.io/org/app@sha256:${'ab'.repeat(32)}`,
    'registry.example/job:2',
  ]);
  assert.deepEqual(
    imagesInKubernetesManifest(
      JSON.stringify({ kind: 'Pod', spec: { containers: [{ image: 'x:1' }] } }),
    ),
    ['x:1'],
  );
  assert.throws(() => imagesInKubernetesManifest('spec: [unclosed', 'pod.yaml'), {
    message: /^pod.yaml: is not YAML or JSON: /,
  });
});
