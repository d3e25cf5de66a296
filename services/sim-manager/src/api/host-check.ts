/**
 * Which Host headers the API answers. A web page can make a browser send requests to 127.0.0.1 under its own
 * name by pointing that name's DNS there (DNS rebinding); the browser then lets the page read the answers as
 * same-origin. The Host header still carries the page's name, so the API answers only names that cannot be
 * rebound: localhost (and *.localhost, always loopback by RFC 6761), IP addresses (a rebinding page can only
 * send its own name), and the names the user configured (westream.api.allowed_hosts). Vite's dev server
 * allows the same by default.
 */
import { isIP } from 'node:net';

/** The host name of a Host header, lower case, without the port and the brackets of an IPv6 address. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return (colon >= 0 ? h.slice(0, colon) : h).replace(/\.$/, '');
}

export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (header === undefined) return true; // no browser sends a request without one (HTTP/1.0 clients may)
  const name = hostName(header);
  return isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || allowed.includes(name);
}
