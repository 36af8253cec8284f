/**
 * The images a Dockerfile or a Kubernetes manifest names, for `signet dockerfile verify` and
 * `signet manifest verify` (cosign's commands of those names, cmd/cosign/cli/dockerfile and
 * manifest): the caller verifies each as `signet verify` would.
 */
import { invalid } from '../errors.ts';
import { parseYamlDocuments } from '../yaml.ts';

/**
 * `$NAME`, `${NAME}` and `${NAME:-default}` in `text`, from `vars` (the Dockerfile's ARG and ENV
 * so far) and then `env`; an unknown name is empty, as in cosign (and Docker without a value).
 */
function expand(
  text: string,
  vars: ReadonlyMap<string, string>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const value = (name: string): string | undefined => vars.get(name) ?? env[name];
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
      const v = value(braced ?? bare!);
      return v !== undefined && v !== '' ? v : (fallback ?? '');
    },
  );
}

/** The instruction a Dockerfile line starts with (upper case), and the rest of the line. */
function instruction(line: string): { word: string; rest: string } | undefined {
  const m = /^([A-Za-z]+)(?:\s+(.*))?$/.exec(line);
  return m ? { word: m[1]!.toUpperCase(), rest: m[2] ?? '' } : undefined;
}

/**
 * The images a Dockerfile builds from, in order: each `FROM` (its `--platform` and other flags
 * skipped, `AS name` remembered) and each `COPY --from=IMAGE`. `scratch`, earlier stages (by name
 * or number) are not images. Build args and ENV values are substituted, else `env`'s.
 */
export function imagesInDockerfile(
  text: string,
  env: Readonly<Record<string, string | undefined>> = {},
  field = 'Dockerfile',
): string[] {
  return dockerfileMentions(text, env, field).map((m) => m.image);
}

/**
 * The image the result is based on (cosign's --base-image-only): the last FROM that names an
 * image. cosign takes the last image mentioned, which is a `COPY --from` image when one follows
 * the last FROM; the base is what its flag promises.
 */
export function baseImageOfDockerfile(
  text: string,
  env: Readonly<Record<string, string | undefined>> = {},
  field = 'Dockerfile',
): string[] {
  const froms = dockerfileMentions(text, env, field).filter((m) => m.from);
  return froms.length === 0 ? [] : [froms[froms.length - 1]!.image];
}

function dockerfileMentions(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  field: string,
): Array<{ image: string; from: boolean }> {
  const vars = new Map<string, string>();
  const stages: string[] = [];
  const images: Array<{ image: string; from: boolean }> = [];
  const isStage = (name: string) => stages.includes(name) || /^\d+$/.test(name);
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const ins = instruction(raw.trim());
    if (!ins) continue;
    const fields = expand(ins.rest, vars, env).split(/\s+/).filter(Boolean);
    if (ins.word === 'FROM') {
      const as = fields.findIndex((f, k) => k > 0 && f.toUpperCase() === 'AS');
      if (as >= 0 && as === fields.length - 1)
        throw invalid(field, `line ${i + 1}: expected a stage name after AS`);
      const image = fields
        .slice(0, as >= 0 ? as : undefined)
        .filter((f) => !f.startsWith('--'))
        .pop();
      if (image === undefined)
        throw invalid(
          field,
          `line ${i + 1}: no image after FROM (is a build arg missing from the environment?)`,
        );
      if (image !== 'scratch' && !stages.includes(image)) images.push({ image, from: true });
      if (as >= 0) stages.push(fields[as + 1]!);
    } else if (ins.word === 'COPY') {
      const from = fields.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      if (from && !isStage(from)) images.push({ image: from, from: false });
    } else if (ins.word === 'ARG' || ins.word === 'ENV') {
      for (const f of fields) {
        const eq = f.indexOf('=');
        if (eq > 0) vars.set(f.slice(0, eq), f.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
      }
    }
  }
  return images;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

/** `initContainers[].image`, then `containers[].image`, of a pod spec. */
function podImages(spec: unknown): string[] {
  const s = record(spec);
  const out: string[] = [];
  for (const list of [s['initContainers'], s['containers']])
    if (Array.isArray(list))
      for (const c of list) {
        const image = record(c)['image'];
        if (typeof image === 'string' && image !== '') out.push(image);
      }
  return out;
}

/**
 * The images of the workloads in a Kubernetes manifest (YAML, several documents, or JSON): the
 * pod spec of a Pod, of a template (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job) and of a
 * CronJob's job template, as cosign's manifest verify reads them.
 */
export function imagesInKubernetesManifest(text: string, field = 'manifest'): string[] {
  const docs = parseYamlDocuments(text, field);
  const images: string[] = [];
  for (const doc of docs) {
    const spec = record(record(doc)['spec']);
    images.push(
      ...podImages(spec),
      ...podImages(record(record(spec['template'])['spec'])),
      ...podImages(record(record(record(record(spec['jobTemplate'])['spec'])['template'])['spec'])),
    );
  }
  return images;
}
