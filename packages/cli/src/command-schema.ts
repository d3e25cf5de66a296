import { readFileSync, writeFileSync } from 'node:fs';
import { configReference, westJsonSchema } from '@westream/config';
import { UsageError } from './exit-codes.js';

export interface SchemaOptions {
  readonly out: string | undefined;
  readonly check: string | undefined;
  /** The Markdown reference (config/REFERENCE.md) in place of the JSON Schema. */
  readonly markdown: boolean;
}

/** `westream schema`: prints (or writes, or checks) the JSON Schema of west.yaml for editors, or its reference. */
export function commandSchema(opts: SchemaOptions, out: NodeJS.WritableStream): void {
  const text = opts.markdown ? configReference() : `${JSON.stringify(westJsonSchema(), null, 2)}\n`;
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
