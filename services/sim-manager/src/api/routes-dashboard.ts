/**
 * The dashboard at `/`: one page and its script from this package's assets/, and the plotting library
 * (Observable Plot, with d3) from the installed packages' own UMD builds. Nothing comes from a CDN: it works
 * on a cluster's offline login node.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';

const here = dirname(fileURLToPath(import.meta.url));
const assets = join(here, '../../assets');
const fromPackage = (specifier: string, rel: string): string => join(dirname(fileURLToPath(import.meta.resolve(specifier))), rel);

const FILES: Record<string, { path: string; type: string }> = {
  '/': { path: join(assets, 'dashboard.html'), type: 'text/html; charset=utf-8' },
  '/assets/dashboard.js': { path: join(assets, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/d3.min.js': { path: fromPackage('d3', 'd3.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/plot.umd.min.js': { path: fromPackage('@observablehq/plot', '../dist/plot.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

export const dashboardRoutes: FastifyPluginCallbackTypebox = (app, _opts, done) => {
  const cache = new Map<string, Buffer>();
  for (const [route, f] of Object.entries(FILES)) {
    app.get(route, { schema: { hide: true } }, (_req, reply) => {
      let body = cache.get(route);
      if (!body) cache.set(route, (body = readFileSync(f.path)));
      return reply.type(f.type).header('cache-control', 'no-cache').send(body);
    });
  }
  done();
};
