/** `--api` values: where the REST API listens. Apart from the server so the CLI can check it without loading fastify. */

/** `host:port`, `:port` or `port` (host 127.0.0.1: loopback unless asked); 'off' → null. */
export function parseApiAddress(s: string): { host: string; port: number } | null {
  if (s === 'off' || s === 'none') return null;
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`--api '${s}': expected host:port (e.g. 127.0.0.1:8080), a port, or off`);
  return { host: m[1] || '127.0.0.1', port };
}
