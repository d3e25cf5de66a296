/**
 * Parses a wall-clock limit the way WESTPA's `time_config` does: `SS`, `MM:SS`, `HH:MM:SS` or
 * `DD:HH:MM:SS` (fields need not be in range: `72:00:00` is 72 hours). Returns seconds, or undefined.
 */
export function parseWallclock(text: string): number | undefined {
  const parts = text.trim().split(':');
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => !/^\d+$/.test(p))) return undefined;
  const weights = [86400, 3600, 60, 1].slice(4 - parts.length);
  return parts.reduce((sum, p, i) => sum + Number(p) * (weights[i] as number), 0);
}
