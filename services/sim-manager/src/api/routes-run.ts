/** The run as a whole: status, workers, live events, metrics, and the three changes a user may ask for. */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Counter, Gauge, Registry } from 'prom-client';
import type { RunEvent } from '../live/run-view.js';
import { ControlBody, Status, Worker, type StatusBody } from './api-schemas.js';
import { tokenMatches, type ApiAppOptions } from './api-app.js';

const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 404: { $ref: 'Error#' } };

export const runRoutes: FastifyPluginCallbackTypebox<{ o: ApiAppOptions }> = (app, { o }, done) => {
  const m = o.monitor;
  const status = async (): Promise<StatusBody> => ({
    runId: o.runId,
    config: o.config.file,
    westH5: o.westH5,
    workManager: m.workManager,
    state: m.state,
    requested: m.requested,
    currentIteration: m.nIter,
    maxTotalIterations: o.config.propagation.maxTotalIterations,
    segments: m.counts(),
    workers: await o.workers(),
    elapsed: (Date.now() - m.startedAt) / 1000,
    eta: m.eta(),
    stragglers: m.stragglers(o.config.westream.stragglerSeconds),
    lastIteration: m.lastIteration && {
      nIter: m.lastIteration.nIter,
      nSegs: m.lastIteration.nSegs,
      walltime: m.lastIteration.walltime,
      nRecycled: m.lastIteration.nRecycled,
      recycledWeight: m.lastIteration.recycledWeight,
      nextSegs: m.lastIteration.nextSegs,
    },
  });

  app.get('/status', { schema: { summary: 'The run now', response: { 200: Status } } }, status);
  app.get('/workers', { schema: { summary: 'Worker daemons (BullMQ) or this process (local)', response: { 200: Type.Array(Worker) } } }, () => o.workers());

  // --- changes: token required ---
  const control = (what: 'pause' | 'resume' | 'stop', message: string): void => {
    app.post(`/run/${what}`, { schema: { summary: message, security: [{ token: [] }], response: { 200: ControlBody, ...errors } } }, async (req, reply) => {
      // Before the token: serve prints none, and there is nothing to protect.
      if (m.state === 'recorded')
        return reply.code(409).send({ error: 'Conflict', message: "this is 'westream serve', showing a run's record: nothing runs here to pause or stop" });
      if (!tokenMatches(req, o.token))
        return reply.code(401).send({
          error: 'Unauthorized',
          message: 'this route changes the run: send Authorization: Bearer <token> (the token the run printed, or WESTREAM_API_TOKEN)',
        });
      if (m.state === 'done' || m.state === 'failed') return reply.code(409).send({ error: 'Conflict', message: `the run has ended (${m.state})` });
      await m.request(what);
      return { state: m.state, requested: m.requested, message };
    });
  };
  control('pause', 'Pause at the end of the running iteration');
  control('resume', 'Resume a paused run');
  control('stop', 'Stop at the end of the running iteration; westream run continues from the next one');

  // --- live events (server-sent events) ---
  app.get(
    '/events',
    { schema: { summary: 'Server-sent events: segment started/finished/failed, iteration started/finished, run state, worker joined/left' } },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(`retry: 2000\n\n`);
      const send = (e: RunEvent): void => void res.write(`event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
      send({ type: 'run-state', data: { state: m.state, requested: m.requested, nIter: m.nIter } });
      m.on('event', send);
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.raw.once('close', () => {
        clearInterval(keepAlive);
        m.off('event', send);
      });
    },
  );

  // --- worker joined/left, from the registry, for the event stream ---
  const alive = new Set<string>();
  const watchWorkers = setInterval(() => {
    void o.workers().then(
      (ws) => {
        const now = new Set(ws.filter((w) => w.alive).map((w) => w.node));
        for (const n of now) if (!alive.has(n)) m.apply({ type: 'worker-joined', data: { node: n } });
        for (const n of alive) if (!now.has(n)) m.apply({ type: 'worker-left', data: { node: n } });
        alive.clear();
        for (const n of now) alive.add(n);
      },
      () => undefined,
    );
  }, 5000);
  watchWorkers.unref();
  app.addHook('onClose', (_app, next) => {
    clearInterval(watchWorkers);
    next();
  });

  // --- Prometheus ---
  const registry = new Registry();
  const segs = new Gauge({ name: 'westream_segments', help: 'Segments of the current iteration by status', labelNames: ['status'], registers: [registry] });
  const iter = new Gauge({ name: 'westream_current_iteration', help: 'The iteration being propagated', registers: [registry] });
  const iterTime = new Gauge({ name: 'westream_last_iteration_seconds', help: 'Wall time of the last finished iteration', registers: [registry] });
  // Counted from the view, which has every event since the run began: the API thread listens only after
  // fastify has loaded, and iterations finished meanwhile count too.
  new Counter({
    name: 'westream_iterations_total',
    help: 'Iterations finished by this sim-manager',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(m.iterationTimes.length);
    },
  });
  const slots = new Gauge({ name: 'westream_worker_slots', help: 'Slots of live workers, by node', labelNames: ['node'], registers: [registry] });
  const queue = new Gauge({ name: 'westream_queue_jobs', help: 'Jobs in the segments queue by state (BullMQ)', labelNames: ['state'], registers: [registry] });
  app.get('/metrics', { schema: { summary: 'Prometheus metrics' } }, async (_req, reply) => {
    for (const [k, v] of Object.entries(m.counts())) if (k !== 'total') segs.set({ status: k }, v);
    iter.set(m.nIter);
    if (m.lastIteration) iterTime.set(m.lastIteration.walltime);
    slots.reset();
    for (const w of await o.workers()) if (w.alive) slots.set({ node: w.node }, w.slots);
    if (o.queueCounts) for (const [k, v] of Object.entries(await o.queueCounts().catch(() => ({})))) queue.set({ state: k }, v);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  done();
};
