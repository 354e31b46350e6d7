/**
 * Closed-loop load: `clients` loops each await one operation at a time, for a fixed time (after an
 * uncounted warm-up) or until `maxOps` operations, whichever comes first. Returns throughput and
 * latency percentiles. Any failed operation aborts the run: numbers with errors in them mean nothing.
 */

export interface LoadOptions {
  clients: number;
  seconds: number;
  /** Uncounted warm-up before the measured window (same loops, same operation). */
  warmupSeconds?: number;
  /** Stop the measured window after this many operations (keeps write phases bounded). */
  maxOps?: number;
  /** Called when the warm-up is over (the server side resets its timings then). */
  onMeasureStart?: () => void;
}

export interface LoadResult {
  ops: number;
  /** Units of work (rows for bulk operations; equal to ops otherwise). */
  units: number;
  seconds: number;
  opsPerSec: number;
  unitsPerSec: number;
  p50: number;
  p95: number;
  p99: number;
}

/** `op(client, n)` runs one operation; it may return how many units (rows) it handled. */
export type Operation = (client: number, n: number) => Promise<number | void>;

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function loops(clients: number, ms: number, maxOps: number, op: Operation, record: boolean) {
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
        if (record) {
          latencies.push(performance.now() - t);
          units += typeof u === 'number' ? u : 1;
        }
      }
    }),
  );
  return { latencies, units, seconds: (performance.now() - t0) / 1000 };
}

export async function runConcurrent(options: LoadOptions, op: Operation): Promise<LoadResult> {
  const { clients, seconds, warmupSeconds = 1, maxOps = Infinity } = options;
  if (warmupSeconds > 0) await loops(clients, warmupSeconds * 1000, maxOps, op, false);
  options.onMeasureStart?.();
  const { latencies, units, seconds: elapsed } = await loops(clients, seconds * 1000, maxOps, op, true);
  const sorted = Float64Array.from(latencies).sort();
  return {
    ops: latencies.length,
    units,
    seconds: elapsed,
    opsPerSec: latencies.length / elapsed,
    unitsPerSec: units / elapsed,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

/** Percentiles of a list of durations (server-side timings). */
export function summarize(durations: number[]) {
  const sorted = Float64Array.from(durations).sort();
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}
