import type { StackMetrics } from './metrics.ts';
import type { FastifyInstance } from 'fastify';
import type { ErrorPage } from './http/errors.ts';
import type { BundleCheck } from './explorer/check.ts';
import type { CaOptions, CaServiceModule } from './ca/service.ts';
import type { CtlogOptions, CtlogServiceModule } from './ctlog/service.ts';
import type { ProviderConfig } from './oidc/config.ts';
import type { OidcServiceModule } from './oidc/service.ts';
import type { RekorOptions, RekorServiceModule } from './rekor/service.ts';
import type { TsaOptions } from './tsa/authority.ts';
import type { TsaService } from './tsa/service.ts';
import type { TufOptions, TufService } from './tuf/service.ts';

/**
 * The services of one stack, each as its own type: a service finds the ones created before it
 * here (services/stack.ts order), e.g. the CA its CT log, with no lookup by name and cast.
 */
export interface StackServices {
  oidc: OidcServiceModule;
  ctlog: CtlogServiceModule;
  ca: CaServiceModule;
  rekor: RekorServiceModule;
  tsa: TsaService;
  tuf: TufService;
  explorer: ServiceModule;
}

export type ServiceName = keyof StackServices;

/** What each service is created from: its config section, parsed (the explorer has none). */
export interface ServiceOptions {
  oidc: ProviderConfig;
  ctlog: CtlogOptions;
  ca: CaOptions;
  rekor: RekorOptions;
  tsa: TsaOptions;
  tuf: TufOptions;
  explorer: undefined;
}

/**
 * What every service of `signet up` receives. Services are created in the order of
 * services/stack.ts; the ones created earlier are in `services`.
 */
export interface StackContext {
  /** Data folder (keys, SQLite file, TUF repository). Created with 0700. */
  dataDir: string;
  /** Public base URL of the stack, no trailing slash, e.g. `http://127.0.0.1:8420`. */
  baseUrl: string;
  /** `postgres://...` when the logs live in PostgreSQL; undefined for embedded SQLite. */
  databaseUrl: string | undefined;
  log: Logger;
  /** The stack's Prometheus metrics; absent when a service runs alone (tests). */
  metrics?: StackMetrics | undefined;
  /** Services already created (e.g. `ctlog` for the CA), in creation order. */
  services: Partial<StackServices>;
  /**
   * The bundle check behind the explorer's "drop a bundle" (the client's verifier, handed in
   * by whoever starts the stack: services may not import the client layer).
   */
  checkBundle?: BundleCheck | undefined;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A piece of the TrustedRoot (protobuf-specs JSON) contributed by one service. */
export interface TrustContribution {
  certificateAuthorities?: unknown[];
  tlogs?: unknown[];
  ctlogs?: unknown[];
  timestampAuthorities?: unknown[];
}

/** A piece of the SigningConfig v0.2 (protobuf-specs JSON) contributed by one service. */
export interface SigningConfigContribution {
  caUrls?: unknown[];
  oidcUrls?: unknown[];
  rekorTlogUrls?: unknown[];
  tsaUrls?: unknown[];
}

export interface ServiceModule {
  /** Short name: `rekor`, `ca`, `ctlog`, `tsa`, `oidc`, `tuf`. */
  name: string;
  /** Path prefix under which `register` mounts its routes, e.g. `/rekor`. */
  prefix: string;
  register(app: FastifyInstance): Promise<void>;
  /**
   * For the paths this service serves as pages: the page a browser gets when its URL fails
   * before routing (malformed, too long) or no route takes it; undefined for other paths.
   */
  errorPage?: ErrorPage;
  trust?(): TrustContribution | Promise<TrustContribution>;
  signingConfig?(): SigningConfigContribution | Promise<SigningConfigContribution>;
  /** Resolves when the service can serve: its stores answer (`/readyz`); rejects saying why not. */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One service of the stack in two steps. `signet up` parses every section before it creates any
 * service, so a mistake anywhere in the config leaves the data folder as it was.
 */
export interface ServiceDefinition<K extends ServiceName> {
  /**
   * The service's config section (may be empty) as its options, with the files it names read
   * and checked; writes nothing. Errors name the field (`ca.keyType: ...`). A relative path in
   * the section names a file in `dir`: the config file's folder, as kubeconfig and Prometheus
   * read theirs (the working folder for a config given otherwise).
   */
  parse: (section: Record<string, unknown>, dir: string) => ServiceOptions[K];
  /** Creates the service from its options: the step that makes keys and files in the data folder. */
  create: (ctx: StackContext, options: ServiceOptions[K]) => Promise<StackServices[K]>;
}
