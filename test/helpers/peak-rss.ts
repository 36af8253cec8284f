import assert from 'node:assert/strict';
import path from 'node:path';

/**
 * A Node `--import` preload that writes the process's peak resident memory (KiB) to stderr as it
 * exits. Memory tests measure RSS: the bytes of a file, a pipe or a layer are Buffers, outside
 * the JS heap that --max-old-space-size bounds, so only RSS sees them held.
 */
export const PEAK_RSS_PRELOAD =
  'data:text/javascript,process.on("exit",()=>process.stderr.write(`peak-rss-kib ${process.resourceUsage().maxRSS}\\n`))';

/** The peak memory (KiB) a process run with PEAK_RSS_PRELOAD reported on its stderr. */
export function peakRssKiB(stderr: string): number {
  const m = /peak-rss-kib (\d+)/.exec(stderr);
  assert.ok(m, `no peak memory reported: ${stderr}`);
  return Number(m[1]);
}

/** Node and its arguments to run `signet ARGS` from this checkout with PEAK_RSS_PRELOAD. */
export function signetWithPeak(args: string[]): [string, string[]] {
  const root = path.resolve(import.meta.dirname, '../..');
  return [
    path.join(root, 'node_modules/.bin/node'),
    [
      '--disable-warning=ExperimentalWarning',
      '--import',
      PEAK_RSS_PRELOAD,
      path.join(root, 'src/cli/main.ts'),
      ...args,
    ],
  ];
}
