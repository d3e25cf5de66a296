/**
 * The test suite's resident toy engine. A scenario test's runseg.sh calls `$TOY_MD run …` once per segment; with
 * the real `westream-toy-md` that is a Node start-up (~90 ms of CPU) for ~1 ms of dynamics, and the suite runs
 * thousands of them on a 2-core machine. test/support/toy-md-client.sh sends the call (its working directory,
 * $WEST_RAND64 and its arguments) here instead, and this server runs the very same command function
 * (`toyMd` of @westream/toy-md) on them: the same files, bytes and exit code as the real engine's. The script
 * still runs as the segment's child process with WESTPA's environment; only the engine's start-up is shared.
 *
 * Only short plain commands are served (run, init, pcoord of at most MAX_STEPS steps; the client keeps streamed,
 * paced or `--set` runs for the real engine); anything else is declined and the client starts the real engine.
 *
 * Wire format (loopback TCP, so a bash client needs no helper process): the request is NUL-terminated fields
 * `toy-md/1`, N, cwd, $WEST_RAND64, then N arguments; the answer is lines `o TEXT` (stdout), `e TEXT` (stderr)
 * and last `x CODE` (the exit code, or `declined`).
 */
import { createServer, type Socket } from 'node:net';
import { toyMd } from '@westream/toy-md';

const PROTOCOL = 'toy-md/1';
const SERVED = new Set(['run', 'init', 'pcoord']);
/** Longer runs go to a real engine process: the server runs one command at a time for every test in the run. */
export const MAX_STEPS = 20_000;

export interface ToyMdServer {
  readonly port: number;
  /** Commands run here so far (declined ones not counted). */
  served(): number;
  close(): Promise<void>;
}

function lines(prefix: string, text: string, into: string[]): void {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  for (const line of body.split('\n')) into.push(`${prefix} ${line}\n`);
}

export async function startToyMdServer(): Promise<ToyMdServer> {
  let served = 0;
  const answer = async (sock: Socket, cwd: string, westRand64: string, args: string[]): Promise<void> => {
    const out: string[] = [];
    let outcome: number | string;
    try {
      outcome = await toyMd(args, {
        cwd,
        westRand64: westRand64 === '' ? undefined : westRand64,
        out: (t) => lines('o', t, out),
        err: (t) => lines('e', t, out),
        admit: (cmd, params) => SERVED.has(cmd) && params.steps <= MAX_STEPS,
      });
    } catch (e) {
      lines('e', `westream-toy-md (the tests' resident engine): ${(e as Error).stack ?? String(e)}`, out);
      outcome = 1;
    }
    if (outcome !== 'declined') served++;
    sock.end(`${out.join('')}x ${outcome}\n`);
  };
  const server = createServer((sock) => {
    let buffered = Buffer.alloc(0);
    let started = false;
    sock.on('error', () => undefined); // a client that went away (its segment was killed) is no concern here
    sock.on('data', (chunk: Buffer) => {
      if (started) return;
      buffered = Buffer.concat([buffered, chunk]);
      const fields = buffered.toString('utf8').split('\0');
      const complete = fields.length - 1; // the last piece is not yet NUL-terminated
      if (complete >= 1 && fields[0] !== PROTOCOL) {
        started = true;
        sock.end('x declined\n');
        return;
      }
      if (complete < 2) return;
      const n = Number(fields[1]);
      if (complete < 4 + n) return;
      started = true;
      void answer(sock, fields[2] as string, fields[3] as string, fields.slice(4, 4 + n));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('toy-md server: no TCP address');
  return {
    port: address.port,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
