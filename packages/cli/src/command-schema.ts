import { readFileSync, writeFileSync } from 'node:fs';
import { westJsonSchema } from '@westream/config';
import { UsageError } from './exit-codes.js';

export interface SchemaOptions {
  readonly out: string | undefined;
  readonly check: string | undefined;
}

/** `westream schema`: prints (or writes, or checks) the JSON Schema of west.yaml for editors. */
export function commandSchema(opts: SchemaOptions, out: NodeJS.WritableStream): void {
  const text = `${JSON.stringify(westJsonSchema(), null, 2)}\n`;
  if (opts.check) {
    let current = '';
    try {
      current = readFileSync(opts.check, 'utf8');
    } catch {
      // a missing file is simply out of date
    }
    if (current !== text) throw new UsageError(`${opts.check} is out of date with the config schema; run: npm run schema`);
    out.write(`${opts.check}: up to date\n`);
    return;
  }
  if (opts.out) {
    writeFileSync(opts.out, text);
    out.write(`wrote ${opts.out}\n`);
    return;
  }
  out.write(text);
}
