/**
 * What of westream's own environment a child may see. Segments, hooks and stream programs run the user's
 * scripts, whose output (WESTPA's SEG_DEBUG idiom: `env | sort`) lands in logs the REST API serves without a
 * token; so westream's secrets never reach them: the API token, and anything of westream's that is named like a
 * secret or carries credentials (a Redis URL with a password).
 */

/** True for a variable of westream's that no child must inherit. */
export function isWestreamSecret(name: string, value: string): boolean {
  if (!name.startsWith('WESTREAM_')) return false;
  if (/TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|KEY/i.test(name)) return true;
  return /^rediss?:\/\/[^/]*@/i.test(value); // redis://user:password@host
}

/** `env` without westream's secrets (and without unset entries). */
export function childBaseEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !isWestreamSecret(k, v)) out[k] = v;
  return out;
}
