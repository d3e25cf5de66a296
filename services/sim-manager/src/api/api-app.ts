/**
 * The sim-manager's REST API (fastify): status, iterations, segments and their logs, workers, live events,
 * Prometheus metrics, the dashboard, and pause/resume/stop. It runs in its own thread (api-thread.ts), so a
 * loop busy resampling or committing west.h5 never delays an answer. Every route that changes the run needs the
 * token. Reads west.h5 through its own handle (each iteration is published atomically, so a read never sees
 * half a commit).
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Queue } from 'bullmq';
import type { WestConfig } from '@westream/config';
import { WestH5 } from '@westream/store';
import type { RunView } from '../live/run-view.js';
import { ErrorBody, type WorkerView } from './api-schemas.js';
import { hostAllowed, hostName } from './host-check.js';
import { dashboardRoutes } from './routes-dashboard.js';
import { evolutionRoutes } from './routes-evolution.js';
import { iterationRoutes } from './routes-iterations.js';
import { runRoutes } from './routes-run.js';

export interface ApiAppOptions {
  readonly host: string;
  readonly port: number;
  /** Bearer token for the routes that change the run. */
  readonly token: string;
  readonly monitor: RunView;
  readonly config: WestConfig;
  readonly simRoot: string;
  readonly westH5: string;
  readonly runId: string;
  readonly workers: () => Promise<WorkerView[]>;
  /** Job counts by state, in BullMQ mode (for /metrics). */
  readonly queueCounts?: () => Promise<Record<string, number>>;
  /** BullMQ mode: the queues, for the board at /queues. */
  readonly queues?: () => readonly Queue[];
}

/** `given` equals the secret, compared in constant time (the header, the board's cookie and its one-time query). */
export function sameSecret(given: string | null | undefined, secret: string): boolean {
  if (given === null || given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function tokenMatches(req: FastifyRequest, token: string): boolean {
  const h = req.headers.authorization ?? '';
  return h.startsWith('Bearer ') && sameSecret(h.slice(7), token);
}

/** Builds the API and listens; resolves with its URL once it does. */
export async function listenApi(o: ApiAppOptions): Promise<{ url: string; app: FastifyInstance }> {
  const app = Fastify({
    logger: false,
    // Requests are small; refuse big ones early.
    bodyLimit: 64 * 1024,
    // Long enough that an oversized parameter reaches its schema (a 400 that names it) rather than the router's
    // bare 414; ids are integers up to 1e9 anyway.
    routerOptions: { maxParamLength: 2000 },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(ErrorBody);
  // Errors are JSON that says what to do; a user's mistake never shows a stack.
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const message = err.validation
      ? `bad request: ${err.message}; see /docs for each route's parameters`
      : code === 500
        ? 'internal error (see the sim-manager log)'
        : err.message;
    void reply.code(code).send({ error: code === 400 ? 'Bad Request' : code === 404 ? 'Not Found' : code === 401 ? 'Unauthorized' : 'Error', message });
  });
  // A number too long for a double is coerced to Infinity, which slips past the schemas' maximum: refuse it here.
  app.addHook('preHandler', async (req, reply) => {
    for (const [where, values] of [
      ['params', req.params],
      ['querystring', req.query],
    ] as const) {
      for (const [k, v] of Object.entries((values ?? {}) as Record<string, unknown>)) {
        if (typeof v === 'number' && !Number.isFinite(v))
          return reply.code(400).send({ error: 'Bad Request', message: `bad request: ${where}/${k} is too large; see /docs for each route's parameters` });
      }
    }
    return undefined;
  });
  // Before any route: a Host header that a DNS-rebinding page would send reads nothing (host-check.ts).
  const allowedHosts = o.config.westream.api.allowedHosts;
  app.addHook('onRequest', async (req, reply) => {
    if (hostAllowed(req.headers.host, allowedHosts)) return undefined;
    return reply.code(403).send({
      error: 'Forbidden',
      message: `Host '${hostName(req.headers.host ?? '')}' is not one this API answers to: use localhost or an IP address, or add the name to westream.api.allowed_hosts in the config (this guards against DNS rebinding)`,
    });
  });
  // A path that exists under other methods answers 405 with Allow, not 404 (TRACE, PATCH on /status, ...);
  // decided on the request line, before fastify parses a body (QUERY would otherwise be a 400).
  const routes: { re: RegExp; method: string }[] = [];
  app.addHook('onRoute', (r) => {
    const re = new RegExp(
      `^${r.url
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/:[^/]+/g, '[^/]+')
        .replace(/\*/g, '.*')}$`,
    );
    for (const method of [r.method].flat()) routes.push({ re, method });
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!req.is404) return undefined;
    const path = req.url.split('?')[0] ?? '';
    const allow = [...new Set(routes.filter((r) => r.re.test(path)).map((r) => r.method))];
    if (allow.length === 0) return undefined;
    return reply
      .code(405)
      .header('allow', allow.join(', '))
      .send({ error: 'Method Not Allowed', message: `${req.method} is not allowed on ${path}; it answers ${allow.join(', ')}` });
  });
  app.setNotFoundHandler(
    (req, reply) => void reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0] ?? ''}; see /docs` }),
  );
  await app.register(swagger, {
    openapi: {
      info: { title: 'westream sim-manager', version: '0.1.0', description: 'Status and control of one weighted-ensemble run.' },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  const store = await WestH5.open(o.westH5, { readOnly: true }); // never touch the writer's commit in progress
  await app.register(runRoutes, { o });
  await app.register(iterationRoutes, { o, store });
  await app.register(evolutionRoutes, { o, store });
  await app.register(dashboardRoutes);
  if (o.queues) {
    // bull-board only in BullMQ mode: it is the heaviest thing to load.
    const { registerQueues } = await import('./routes-queues.js');
    await registerQueues(app, o.queues(), o.token);
  }
  await app.ready();
  const url = await app.listen({ host: o.host, port: o.port });
  return { url, app };
}
