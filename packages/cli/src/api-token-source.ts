/**
 * Where `westream run` takes its API token from: WESTREAM_API_TOKEN or a file (`--api-token-file`, or
 * WESTREAM_API_TOKEN_FILE), never the command line, where every user of the machine reads it
 * (`/proc/PID/cmdline`, `ps`). Without either, the run makes one and writes it to .westream/api-token.
 */
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from './exit-codes.js';

export const TOKEN_ON_COMMAND_LINE =
  '--api-token is not accepted: a token on the command line is visible to every user of the machine (ps, /proc/PID/cmdline). ' +
  'Set WESTREAM_API_TOKEN in the environment, or put the token in a file only you can read (chmod 600) and pass --api-token-file FILE.';

/** The token the user gave, and a phrase saying where it came from; undefined when none was given. */
export function givenApiToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): { token: string; where: string } | undefined {
  const path = file ?? env.WESTREAM_API_TOKEN_FILE;
  if (path !== undefined) {
    let text: string;
    try {
      if (!statSync(path).isFile()) throw new UsageError(`--api-token-file ${path}: not a regular file; put the token in a file only you can read`);
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--api-token-file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    const token = text.trim();
    if (!token || /\s/.test(token))
      throw new UsageError(`--api-token-file ${path}: expected one token on one line (no spaces), found ${token ? 'several words' : 'nothing'}`);
    return { token, where: `from ${path}` };
  }
  const token = env.WESTREAM_API_TOKEN;
  if (token !== undefined && token !== '') return { token, where: 'from WESTREAM_API_TOKEN' };
  return undefined;
}
