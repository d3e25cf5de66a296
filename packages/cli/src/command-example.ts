/**
 * `westream example`: lists the worked examples, or makes a sim root from one. An example is two folders of
 * the repository, kept apart as in WESTPA's tutorials: `config/examples/NAME/` (west.cfg or west.yaml, basis
 * states, engine inputs) and `westpa-scripts/NAME/` (runseg.sh and friends), which lands in the sim root's
 * `westpa_scripts/`, where the configs name it. The config's leading comment is the example's description:
 * its first line the title, its lines `#   westream …` the commands to run it.
 */
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './exit-codes.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = join(REPO, 'config/examples');
const SCRIPTS = join(REPO, 'westpa-scripts');

export interface ExampleOptions {
  readonly name: string | undefined;
  readonly dir: string | undefined;
}

interface Example {
  readonly name: string;
  readonly title: string;
  readonly commands: string[];
}

/** The examples in the repository, by name. */
function listExamples(): Example[] {
  if (!existsSync(EXAMPLES)) return [];
  return readdirSync(EXAMPLES)
    .filter((n) => statSync(join(EXAMPLES, n)).isDirectory())
    .sort()
    .flatMap((name) => {
      const config = ['west.cfg', 'west.yaml'].find((f) => existsSync(join(EXAMPLES, name, f)));
      if (!config) return [];
      const header = readFileSync(join(EXAMPLES, name, config), 'utf8').split('\n');
      const comments = header
        .slice(
          0,
          header.findIndex((l) => !l.startsWith('#')),
        )
        .map((l) => l.replace(/^# ?/, ''));
      return [{ name, title: comments[0] ?? '', commands: comments.filter((l) => /^\s+westream /.test(l)).map((l) => l.trim()) }];
    });
}

export function commandExample(opts: ExampleOptions, out: NodeJS.WritableStream): void {
  const examples = listExamples();
  if (!opts.name) {
    out.write('worked examples (westream example NAME DIR makes a sim root from one):\n\n');
    for (const e of examples) out.write(`  ${e.name.padEnd(18)} ${e.title}\n`);
    return;
  }
  const ex = examples.find((e) => e.name === opts.name);
  if (!ex) throw new UsageError(`westream example: no example named '${opts.name}'; there are: ${examples.map((e) => e.name).join(', ')}`);
  if (!opts.dir) throw new UsageError(`westream example ${ex.name}: give the directory to make the sim root in, e.g. westream example ${ex.name} ./${ex.name}`);
  const dir = resolve(opts.dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`westream example: ${dir} is a file; give a new or empty directory`);
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new UsageError(`westream example: ${dir} is not empty; give a new or empty directory (nothing was copied)`);
  // dereference: an example may share an engine's input with another by a symlink; the sim root gets a copy.
  cpSync(join(EXAMPLES, ex.name), dir, { recursive: true, dereference: true });
  if (existsSync(join(SCRIPTS, ex.name))) cpSync(join(SCRIPTS, ex.name), join(dir, 'westpa_scripts'), { recursive: true, dereference: true });
  out.write(`${ex.title}\n\nsim root: ${dir}\nrun it:\n  cd ${dir}\n${ex.commands.map((c) => `  ${c}\n`).join('')}`);
}
