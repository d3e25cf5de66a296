/** `westream-toy-md`: the bundled engine's command line (the command itself is cli.ts). */
import { toyMd } from './cli.js';

const outcome = await toyMd(process.argv.slice(2), {
  westRand64: process.env.WEST_RAND64,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
process.exitCode = typeof outcome === 'number' ? outcome : 1;
