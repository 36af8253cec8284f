import type {
  ServiceDefinition,
  ServiceName,
  StackContext,
  StackServices,
} from '../../src/services/types.ts';

/** A logger that says nothing (the tests assert on answers, not on log lines). */
export const quiet = { info() {}, warn() {}, error() {} };

/**
 * The StackContext a service gets from `signet up`, for creating one service alone: no other
 * services, embedded SQLite, a quiet log. `baseUrl` defaults to loopback without a port for
 * services that only use it in trust()/signingConfig().
 */
export function serviceContext(
  opts: Pick<StackContext, 'dataDir'> & Partial<StackContext>,
): StackContext {
  return {
    baseUrl: 'http://127.0.0.1',
    databaseUrl: undefined,
    log: quiet,
    services: {},
    ...opts,
  };
}

/**
 * One service created as `signet up` creates it: its config section parsed (relative paths from
 * the working folder, as for a config not from a file), then created.
 */
export async function createService<K extends ServiceName>(
  definition: ServiceDefinition<K>,
  ctx: StackContext,
  section: Record<string, unknown> = {},
): Promise<StackServices[K]> {
  return definition.create(ctx, definition.parse(section, process.cwd()));
}
