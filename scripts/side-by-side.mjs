#!/usr/bin/env node
/**
 * Runs commands at the same time, each line of their output prefixed with its name, and exits with the first
 * non-zero exit code (0 when all pass). `npm test` uses it to run the in-process science cases (pure CPU) beside
 * the e2e-serial files, which mostly wait on child processes, timeouts and locks and leave a core idle.
 *
 *   node scripts/side-by-side.mjs NAME=COMMAND NAME=COMMAND …
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const jobs = process.argv.slice(2).map((arg) => {
  const eq = arg.indexOf('=');
  if (eq <= 0) {
    process.stderr.write(`side-by-side: '${arg}' is not NAME=COMMAND\n`);
    process.exit(2);
  }
  return { name: arg.slice(0, eq), command: arg.slice(eq + 1) };
});
const width = Math.max(...jobs.map((j) => j.name.length));

const codes = await Promise.all(
  jobs.map(
    (j) =>
      new Promise((resolve) => {
        // The commands are this repository's own (package.json), never user input: a shell parses them as npm would.
        const child = spawn(j.command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
        const prefix = `${j.name.padEnd(width)} | `;
        for (const [from, to] of [
          [child.stdout, process.stdout],
          [child.stderr, process.stderr],
        ]) {
          createInterface({ input: from }).on('line', (line) => to.write(`${prefix}${line}\n`));
        }
        child.once('close', (code, signal) => {
          const took = `${j.name}: ${signal ? `killed by ${signal}` : `exit ${code}`}`;
          process.stderr.write(`${took}\n`);
          resolve(code ?? 1);
        });
      }),
  ),
);
process.exitCode = codes.find((c) => c !== 0) ?? 0;
