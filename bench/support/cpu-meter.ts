/**
 * CPU cost of a baseline operation, measured in slices between the slices of the figure it is
 * the baseline of.
 *
 * Why: these machines are shared, and their speed drifts. Here one P-384 signature took 0.9 ms
 * of CPU in one second and 1.8 ms a few seconds later, in the same process. A ratio of two
 * figures measured seconds apart then reads the neighbours, not the code: the CA's ratio read
 * 1.2x in one run and 1.9x in the next. Measured in alternating slices and summed, the figure
 * and its baseline see the same mix of fast and slow moments.
 */
export class CpuMeter {
  #us = 0;
  #calls = 0;

  /** Calls `f` for `ms` of wall time on this thread; adds the thread's CPU time and the calls. */
  run(f: () => unknown, ms: number): void {
    const t0 = performance.now();
    const c0 = process.threadCpuUsage();
    let n = 0;
    do {
      f();
      n++;
    } while (performance.now() - t0 < ms);
    const c = process.threadCpuUsage(c0);
    this.add(c.user + c.system, n);
  }

  /** Adds CPU µs measured elsewhere (another process's) for `calls` calls. */
  add(us: number, calls: number): void {
    this.#us += us;
    this.#calls += calls;
  }

  /** CPU µs per call over every slice. */
  get perCallUs(): number {
    return this.#us / this.#calls;
  }
}
