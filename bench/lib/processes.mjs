// Helpers the benches share: long-lived child processes and free ports.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** Spawns a long-lived process and resolves once `re` appears on its stdout (what it printed: `child.printed`). */
export function startUntil(cmd, args, re, env = process.env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      child.printed = out;
      if (re.test(out)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before ${re}: ${out}`)));
  });
}

/** A TCP port that was free a moment ago. */
export async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}
