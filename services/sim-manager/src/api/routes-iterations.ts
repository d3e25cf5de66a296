/** Iterations and segments as west.h5 records them, with the live state of the current iteration on top. */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { mapperFromSpec } from '@westream/config';
import { DataRefs } from '@westream/propagator';
import { recycledOf, type IterationRecord, type SummaryRow, type WestH5 } from '@westream/store';
import { assignBatch, isAdaptive, SegStatus, segmentTemplateFields } from '@westream/we';
import {
  IterationDetail,
  IterationSummary,
  IterParams,
  LogBody,
  LogQuery,
  Page,
  PAGE_DEFAULTS,
  SegmentDetail,
  SegmentPage,
  SegParams,
  type SegmentRow,
} from './api-schemas.js';
import type { ApiAppOptions } from './api-app.js';
import { LogUnavailable, readLog } from './segment-logs.js';

const errors = { 400: { $ref: 'Error#' }, 404: { $ref: 'Error#' } };
const STATUS_NAMES: Record<number, string> = {
  [SegStatus.UNSET]: 'unset',
  [SegStatus.PREPARED]: 'prepared',
  [SegStatus.COMPLETE]: 'complete',
  [SegStatus.FAILED]: 'failed',
};

class NotFound extends Error {
  readonly code = 'API_ERR_NOT_FOUND';
  readonly statusCode = 404;
}

export const iterationRoutes: FastifyPluginCallbackTypebox<{ o: ApiAppOptions; store: WestH5 }> = (app, { o, store }, done) => {
  const m = o.monitor;
  const mapper = mapperFromSpec(o.config.system.bins);
  const labels = mapper.labels();
  const { pcoordLen, pcoordNdim } = o.config.system;
  const per = pcoordLen * pcoordNdim;
  const refs = new DataRefs(o.config.data.dataRefs, { ...process.env, WEST_SIM_ROOT: o.simRoot, ...o.config.executable.environ });

  // Finished iterations never change during a run: keep the last few read (the dashboard asks for them often).
  const cache = new Map<number, IterationRecord>();
  const finished = (): number => (m.nIter - 1 > 0 ? m.nIter - 1 : store.currentIteration - 1);
  const current = (): number => Math.max(m.nIter, store.currentIteration);
  async function record(n: number): Promise<IterationRecord> {
    if (n > current()) throw new NotFound(`iteration ${n} does not exist yet; the run is at iteration ${current()}`);
    const hit = cache.get(n);
    if (hit) return hit;
    const rec = await store.readIteration(n);
    if (n <= finished()) {
      cache.set(n, rec);
      if (cache.size > 16) cache.delete(cache.keys().next().value as number);
    }
    return rec;
  }
  function segmentOf(rec: IterationRecord, id: number): void {
    if (id >= rec.nSegs) throw new NotFound(`iteration ${rec.nIter} has ${rec.nSegs} segments (ids 0–${rec.nSegs - 1}); there is no segment ${id}`);
  }
  function row(rec: IterationRecord, id: number): Static<typeof SegmentRow> {
    const live = rec.nIter === m.nIter ? m.segments.get(id) : undefined;
    const done = rec.status[id] === SegStatus.COMPLETE;
    return {
      id,
      weight: rec.weights[id] as number,
      parent: rec.parentIds[id] as number,
      status: live?.status ?? STATUS_NAMES[rec.status[id] as number] ?? 'unset',
      node: live?.node ?? null,
      cputime: live?.cputime ?? (done ? (rec.cputime[id] as number) : null),
      walltime: live?.walltime ?? (done ? (rec.walltime[id] as number) : null),
      finalPcoord: done ? Array.from(rec.pcoord.subarray(id * per + (pcoordLen - 1) * pcoordNdim, (id + 1) * per)) : null,
    };
  }
  /**
   * Bins of the start points under MAB or binless bins, the way WESTPA's MABSimManager reports an iteration's
   * bins: all start points with their weights, binned together; undefined when a point lies outside the bins.
   */
  function startBins(rec: IterationRecord): Uint32Array | undefined {
    const coords = new Float64Array(rec.nSegs * pcoordNdim);
    for (let i = 0; i < rec.nSegs; i++) coords.set(rec.pcoord.subarray(i * per, i * per + pcoordNdim), i * pcoordNdim);
    try {
      return assignBatch(mapper, { coords, n: rec.nSegs, weights: rec.weights, isFinal: new Uint8Array(rec.nSegs).fill(1) });
    } catch {
      return undefined;
    }
  }
  let summaries: { at: number; rows: SummaryRow[] } | undefined;
  async function summaryRows(): Promise<SummaryRow[]> {
    if (summaries?.at !== m.iterationTimes.length) summaries = { at: m.iterationTimes.length, rows: await store.readSummary() };
    return summaries.rows;
  }
  const withDone = (r: SummaryRow): Static<typeof IterationSummary> => ({ ...r, complete: r.nIter < current() });

  app.get(
    '/iterations',
    { schema: { summary: 'One summary row per iteration (west.h5 /summary)', response: { 200: Type.Array(IterationSummary) } } },
    async () => (await summaryRows()).map(withDone),
  );

  app.get(
    '/iterations/:n',
    { schema: { summary: 'Summary, bin occupancy and weight, flux into the targets', params: IterParams, response: { 200: IterationDetail, ...errors } } },
    async (req) => {
      const rec = await record(req.params.n);
      const row = (await summaryRows())[req.params.n - 1];
      if (!row) throw new NotFound(`iteration ${req.params.n} has no summary row yet`);
      const bins = new Map<number, { count: number; weight: number }>();
      const adaptive = isAdaptive(mapper) ? startBins(rec) : undefined;
      for (let i = 0; i < rec.nSegs; i++) {
        let b: number;
        try {
          b = adaptive ? (adaptive[i] as number) : mapper.assignPoint(rec.pcoord, i * per);
        } catch {
          continue; // outside every bin (a recycled walker's start was replaced): not counted
        }
        const e = bins.get(b) ?? { count: 0, weight: 0 };
        e.count++;
        e.weight += rec.weights[i] as number;
        bins.set(b, e);
      }
      const { recycledWeight, nRecycled } = recycledOf(rec);
      return {
        summary: withDone(row),
        bins: [...bins].sort((a, b) => a[0] - b[0]).map(([bin, e]) => ({ bin, label: labels[bin] ?? String(bin), ...e })),
        adaptiveBins: await store.readAdaptiveBins(req.params.n),
        flux: { recycledWeight, nRecycled, perTau: recycledWeight },
      };
    },
  );

  app.get(
    '/iterations/:n/segments',
    { schema: { summary: 'Segments of an iteration, a page at a time', params: IterParams, querystring: Page, response: { 200: SegmentPage, ...errors } } },
    async (req) => {
      const rec = await record(req.params.n);
      const { offset = PAGE_DEFAULTS.offset, limit = PAGE_DEFAULTS.limit } = req.query;
      const ids = Array.from({ length: Math.max(0, Math.min(limit, rec.nSegs - offset)) }, (_, i) => offset + i);
      return { nIter: rec.nIter, total: rec.nSegs, offset, limit, segments: ids.map((id) => row(rec, id)) };
    },
  );

  const logPaths = (rec: IterationRecord, id: number): { log: string | null; analysis: string | null } => {
    const segment = segmentTemplateFields({ nIter: rec.nIter, segId: id, weight: rec.weights[id], parentId: rec.parentIds[id] });
    const prog = o.config.executable.propagator;
    const st = o.config.executable.streamTrajectory;
    return { log: prog.stdout ? refs.render(prog.stdout, { segment }) : null, analysis: st?.stdout ? refs.render(st.stdout, { segment }) : null };
  };

  app.get(
    '/iterations/:n/segments/:id',
    { schema: { summary: 'One segment: full pcoord, auxdata, parents, log links', params: SegParams, response: { 200: SegmentDetail, ...errors } } },
    async (req) => {
      const { n, id } = req.params;
      const rec = await record(n);
      segmentOf(rec, id);
      const pcoord: number[][] = [];
      for (let t = 0; t < pcoordLen; t++) pcoord.push(Array.from(rec.pcoord.subarray(id * per + t * pcoordNdim, id * per + (t + 1) * pcoordNdim)));
      const paths = logPaths(rec, id);
      return {
        nIter: n,
        segment: row(rec, id),
        pcoord,
        parents: rec.wtgParentIds[id] ?? [],
        auxdata: await store.readAuxdata(n, id),
        links: { log: `/iterations/${n}/segments/${id}/log`, analysisLog: paths.analysis ? `/iterations/${n}/segments/${id}/analysis-log` : null },
      };
    },
  );

  const logRoute = (suffix: 'log' | 'analysis-log', pick: (p: { log: string | null; analysis: string | null }) => string | null): void => {
    app.get(
      `/iterations/:n/segments/:id/${suffix}`,
      {
        schema: {
          summary: suffix === 'log' ? "The segment's propagator log (its last lines, or a byte range)" : "The segment's stream_trajectory log",
          params: SegParams,
          querystring: LogQuery,
          response: { 200: LogBody, ...errors, 403: { $ref: 'Error#' } },
        },
      },
      async (req, reply) => {
        const { n, id } = req.params;
        const rec = await record(n);
        segmentOf(rec, id);
        const file = pick(logPaths(rec, id));
        if (!file)
          throw new NotFound(`this run keeps no ${suffix === 'log' ? 'propagator log (executable.propagator.stdout is not set)' : 'stream_trajectory log'}`);
        const q = req.query;
        try {
          return readLog(o.simRoot, file, {
            ...(q.tail !== undefined ? { tail: q.tail } : {}),
            ...(q.start !== undefined ? { start: q.start } : {}),
            ...(q.end !== undefined ? { end: q.end } : {}),
          });
        } catch (e) {
          if (e instanceof LogUnavailable)
            return reply.code(e.statusCode).send({ error: e.statusCode === 403 ? 'Forbidden' : 'Not Found', message: e.message });
          throw e;
        }
      },
    );
  };
  logRoute('log', (p) => p.log);
  logRoute('analysis-log', (p) => p.analysis);
  done();
};
