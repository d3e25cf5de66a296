/** JSON text where ±Infinity print as WESTPA's 'inf' / '-inf' (JSON has no infinities). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === Infinity ? 'inf' : v === -Infinity ? '-inf' : typeof v === 'bigint' ? v.toString() : v), 2);
}
