/**
 * Delay before connection attempt number `failures + 1`: doubles from `initialMs` up to
 * `maxMs`, with "equal jitter" (half fixed, half random) so that many relay replicas losing
 * the same broker do not reconnect in lockstep.
 */
export function reconnectDelay(
  failures: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  if (failures <= 0) return 0;
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
