import { createHash } from 'node:crypto';

/**
 * The kinds of identity the built-in provider issues, one OIDC issuer each, so that every issuer
 * type of the CA can be exercised end to end. Tokens have the claim shapes of the real systems
 * (GitHub Actions, GitLab CI, Buildkite, SPIFFE, Kubernetes service accounts), built from the
 * identity's name and overlaid with the claims configured for it.
 *
 * Issuer URLs: `<base>/oidc` (email), `<base>/oidc/<flavor>`, and for Kubernetes one issuer per
 * cluster, `<base>/oidc/kubernetes/<cluster>` (the CA trusts them as a meta-issuer).
 */
export const FLAVORS = [
  'email',
  'github',
  'gitlab',
  'buildkite',
  'spiffe',
  'kubernetes',
  'uri',
  'username',
] as const;
export type Flavor = (typeof FLAVORS)[number];

export function isFlavor(s: string): s is Flavor {
  return (FLAVORS as readonly string[]).includes(s);
}

/** Path of the flavor's issuer below `<base>/oidc` ('' for email). */
export function flavorPath(flavor: Flavor, cluster = 'default'): string {
  if (flavor === 'email') return '';
  if (flavor === 'kubernetes') return `/kubernetes/${cluster}`;
  return `/${flavor}`;
}

export interface FlavorContext {
  /** `<base>` of the stack (scheme://host:port), for `uri` subjects. */
  baseUrl: string;
  spiffeTrustDomain: string;
  /** Host used as the `username` subject domain. */
  usernameDomain: string;
}

/** Stable fake identifiers derived from a name, so repeated tokens agree. */
function hex(name: string, what: string, len = 40): string {
  return createHash('sha256').update(`${what}:${name}`).digest('hex').slice(0, len);
}
function num(name: string, what: string): string {
  return String((parseInt(hex(name, what, 8), 16) % 9_000_000) + 1_000_000);
}
function uuid(name: string, what: string): string {
  const h = hex(name, what, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function split2(name: string, what: string): [string, string] {
  const i = name.indexOf('/');
  if (i <= 0 || i === name.length - 1 || name.indexOf('/', i + 1) >= 0)
    throw new Error(`${what} identity names look like "owner/name" (got "${name}")`);
  return [name.slice(0, i), name.slice(i + 1)];
}

/**
 * The claims (without iss/aud/iat/exp) a token of this flavor carries for identity `name`.
 * `sub` is derived from the other claims after the configured overlay, like the real systems.
 */
export function baseClaims(
  flavor: Flavor,
  name: string,
  ctx: FlavorContext,
): { claims: Record<string, unknown>; sub: (c: Record<string, unknown>) => string } {
  switch (flavor) {
    case 'email':
      return {
        claims: { email: name, email_verified: true, name: name.split('@')[0] },
        sub: (c) => String(c['email']),
      };
    case 'github': {
      // https://docs.github.com/actions/reference/security/oidc#example-oidc-token
      const [owner, repo] = split2(name, 'github');
      const sha = hex(name, 'sha');
      const wf = `${owner}/${repo}/.github/workflows/release.yml@refs/heads/main`;
      return {
        claims: {
          jti: uuid(name, 'jti'),
          ref: 'refs/heads/main',
          sha,
          repository: `${owner}/${repo}`,
          repository_owner: owner,
          repository_owner_id: num(owner, 'owner'),
          repository_visibility: 'public',
          repository_id: num(name, 'repo'),
          run_id: num(name, 'run'),
          run_number: '1',
          run_attempt: '1',
          actor: owner,
          actor_id: num(owner, 'owner'),
          workflow: 'release',
          head_ref: '',
          base_ref: '',
          event_name: 'push',
          ref_protected: 'false',
          ref_type: 'branch',
          workflow_ref: wf,
          workflow_sha: sha,
          job_workflow_ref: wf,
          job_workflow_sha: sha,
          runner_environment: 'github-hosted',
        },
        sub: (c) => {
          const env = c['environment'];
          return typeof env === 'string' && env
            ? `repo:${String(c['repository'])}:environment:${env}`
            : `repo:${String(c['repository'])}:ref:${String(c['ref'])}`;
        },
      };
    }
    case 'gitlab': {
      // https://docs.gitlab.com/ci/secrets/id_token_authentication/#token-payload
      const [group, project] = split2(name, 'gitlab');
      const sha = hex(name, 'sha');
      return {
        claims: {
          namespace_id: num(group, 'ns'),
          namespace_path: group,
          project_id: num(name, 'project'),
          project_path: `${group}/${project}`,
          user_id: num(group, 'user'),
          user_login: group,
          user_email: `${group}@signet.local`,
          user_access_level: 'owner',
          pipeline_id: num(name, 'pipeline'),
          pipeline_source: 'push',
          job_id: num(name, 'job'),
          ref: 'main',
          ref_type: 'branch',
          ref_path: 'refs/heads/main',
          ref_protected: 'true',
          runner_id: Number(num(name, 'runner')),
          runner_environment: 'gitlab-hosted',
          sha,
          project_visibility: 'public',
          ci_config_ref_uri: `gitlab.com/${group}/${project}//.gitlab-ci.yml@refs/heads/main`,
          ci_config_sha: sha,
        },
        sub: (c) =>
          `project_path:${String(c['project_path'])}:ref_type:${String(c['ref_type'])}:ref:${String(c['ref'])}`,
      };
    }
    case 'buildkite': {
      // https://buildkite.com/docs/agent/v3/cli-oidc#claims
      const [org, pipeline] = split2(name, 'buildkite');
      return {
        claims: {
          organization_slug: org,
          pipeline_slug: pipeline,
          build_number: 1,
          build_branch: 'main',
          build_tag: null,
          build_commit: hex(name, 'sha'),
          build_source: 'ui',
          step_key: 'sign',
          job_id: uuid(name, 'job'),
          agent_id: uuid(name, 'agent'),
          organization_id: uuid(org, 'org'),
          pipeline_id: uuid(name, 'pipeline'),
          runner_environment: 'buildkite-hosted',
        },
        sub: (c) =>
          `organization:${String(c['organization_slug'])}:pipeline:${String(c['pipeline_slug'])}:ref:refs/heads/${String(c['build_branch'])}:commit:${String(c['build_commit'])}:step:${String(c['step_key'])}`,
      };
    }
    case 'spiffe':
      return {
        claims: {},
        sub: () => `spiffe://${ctx.spiffeTrustDomain}/${name.replace(/^\/+/, '')}`,
      };
    case 'kubernetes': {
      const [ns, sa] = split2(name, 'kubernetes');
      return {
        claims: {
          'kubernetes.io': {
            namespace: ns,
            pod: { name: `${sa}-pod`, uid: uuid(name, 'pod') },
            serviceaccount: { name: sa, uid: uuid(name, 'sa') },
          },
        },
        sub: () => `system:serviceaccount:${ns}:${sa}`,
      };
    }
    case 'uri':
      return { claims: {}, sub: () => `${ctx.baseUrl}/users/${encodeURIComponent(name)}` };
    case 'username':
      return { claims: {}, sub: () => name };
  }
}
