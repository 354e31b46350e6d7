/** ISO 8601 durations of metadata (P3D, PT48H, -P1D) in milliseconds; the meta-schema admits only these parts. */
const DURATION = /^(-)?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export function durationMs(iso: string): number {
  const m = DURATION.exec(iso);
  if (!m) throw new Error(`Not a duration: ${iso}`);
  const [, minus, w, d, h, min, s] = m;
  const ms =
    ((((Number(w ?? 0) * 7 + Number(d ?? 0)) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60 + Number(s ?? 0)) * 1000;
  return minus ? -ms : ms;
}
