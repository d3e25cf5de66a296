#!/usr/bin/env node
// Launcher committed in the repo so npm can link the bin at install time, before the build exists.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('westream-toy-md is not built yet: run `npm run build` in the repository, then try again.\n');
  process.exit(2);
}
await import(main.href);
