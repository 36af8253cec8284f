/**
 * `/readyz`: whether every service of the stack can serve (its stores answer). A store that is
 * down is logged when that is found and when it is over, not on every probe: a load balancer
 * probes every second or so, and the log would drown in one line per probe.
 */
import type { Logger, ServiceModule } from './types.ts';

/** Readiness of one service, bounded in time (a store that hangs is not ready). */
async function checkReady(mod: ServiceModule, timeoutMs: number): Promise<string | undefined> {
  if (!mod.ready) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      mod.ready(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A probe of `services` (read when it runs: the stack adds them as it starts) answering the
 * problems found, each `service: reason`, none when ready. Whenever the set of services not
 * ready changes, it says so once on `log`: a warning naming them and why, or that all are
 * ready again.
 */
export function readinessProbe(
  services: () => ServiceModule[],
  log: Logger,
  timeoutMs = 2000,
): () => Promise<string[]> {
  let notReady = ''; // the services found not ready by the last probe that ended, by name
  return async () => {
    const mods = services();
    const found = await Promise.all(mods.map((m) => checkReady(m, timeoutMs)));
    const failing = mods.flatMap((m, i) =>
      found[i] === undefined ? [] : [{ service: m.name, reason: found[i] }],
    );
    const problems = failing.map((f) => `${f.service}: ${f.reason}`);
    const names = failing.map((f) => f.service).join(', ');
    if (names !== notReady) {
      notReady = names;
      if (failing.length > 0)
        log.warn('not ready', {
          services: failing.map((f) => f.service),
          reason: problems.join('; '),
        });
      else log.info('ready again', { services: mods.map((m) => m.name) });
    }
    return problems;
  };
}
