// The floor for the orchestration benchmark, in a fresh Node process (a process holding a big heap forks
// slower, so the floor must not run inside the benchmark's own process): spawn SCRIPT `segs` times, 2 at a
// time, each with its own return-file path, from DIR; print the seconds taken.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const [dir, script, segs] = [process.argv[2], process.argv[3], Number(process.argv[4])];
let next = 0;
const lane = async () => {
  while (next < segs) {
    const i = next++;
    await new Promise((res, rej) => {
      const c = spawn(script, [], { cwd: dir, env: { ...process.env, WEST_PCOORD_RETURN: join(dir, `ret-${i % 2}`) }, stdio: 'ignore' });
      c.once('error', rej);
      c.once('exit', res);
    });
  }
};
const t0 = performance.now();
await Promise.all([lane(), lane()]);
console.log(((performance.now() - t0) / 1000).toFixed(4));
