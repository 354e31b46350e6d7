/**
 * Closed-loop load: `clients` loops each await one operation at a time, for a fixed time (after an
 * uncounted warm-up) or until `maxOps` operations, whichever comes first. Any failed operation aborts
 * the run: numbers with errors in them mean nothing.
 *
 * `measure` returns a raw sample (with every latency) so that several segments of the same side can be
 * merged by `stats` — the benchmark alternates API and raw SQL in rounds, so background load on the
 * machine hits both sides alike.
 */

export interface LoadOptions {
  clients: number;
  seconds: number;
  /** Uncounted warm-up before the measured window (same loops, same operation). */
  warmupSeconds?: number;
  /** Stop the measured window after this many operations (keeps write phases bounded). */
  maxOps?: number;
  /** Called when the warm-up is over (the server side starts collecting its timings then). */
  onMeasureStart?: () => void;
}

export interface Sample {
  ops: number;
  /** Units of work (rows for bulk operations; equal to ops otherwise). */
  units: number;
  seconds: number;
  /** Milliseconds, one per operation. */
  latencies: Float64Array;
}

export interface LoadResult {
  ops: number;
  units: number;
  seconds: number;
  opsPerSec: number;
  unitsPerSec: number;
  p50: number;
  p95: number;
  p99: number;
}

/** `op(client, n)` runs one operation; it may return how many units (rows) it handled. */
// biome-ignore lint/suspicious/noConfusingVoidType: an operation may return a count or nothing
export type Operation = (client: number, n: number) => Promise<number | void>;

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function loops(clients: number, ms: number, maxOps: number, op: Operation) {
  const latencies: number[] = [];
  let units = 0;
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline && started < maxOps) {
        const n = started++;
        const t = performance.now();
        const u = await op(client, n);
        latencies.push(performance.now() - t);
        units += typeof u === 'number' ? u : 1;
      }
    }),
  );
  return { ops: latencies.length, units, seconds: (performance.now() - t0) / 1000, latencies: Float64Array.from(latencies) };
}

export async function measure(options: LoadOptions, op: Operation): Promise<Sample> {
  const { clients, seconds, warmupSeconds = 1, maxOps = Infinity } = options;
  if (warmupSeconds > 0) await loops(clients, warmupSeconds * 1000, maxOps, op);
  options.onMeasureStart?.();
  return loops(clients, seconds * 1000, maxOps, op);
}

/** Throughput and percentiles over one or more samples of the same side. */
export function stats(samples: Sample[]): LoadResult {
  const ops = samples.reduce((a, s) => a + s.ops, 0);
  const units = samples.reduce((a, s) => a + s.units, 0);
  const seconds = samples.reduce((a, s) => a + s.seconds, 0);
  const all = new Float64Array(ops);
  let at = 0;
  for (const s of samples) {
    all.set(s.latencies, at);
    at += s.latencies.length;
  }
  all.sort();
  return {
    ops,
    units,
    seconds,
    opsPerSec: ops / seconds,
    unitsPerSec: units / seconds,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    p99: percentile(all, 99),
  };
}

export const runConcurrent = async (options: LoadOptions, op: Operation): Promise<LoadResult> =>
  stats([await measure(options, op)]);

/** Percentiles of a list of durations (server-side timings). */
export function summarize(durations: number[]) {
  const sorted = Float64Array.from(durations).sort();
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}
