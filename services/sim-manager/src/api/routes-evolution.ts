/**
 * `GET /evolution`: per finished iteration, the weighted histogram of one pcoord dimension over the
 * timepoints of every segment, counted as `w_pdist` counts them (what it and `plothist evolution` draw), and the weight recycled into the
 * targets (the flux, whose running average is the rate estimate). Finished iterations never change during a
 * run, so each is read and histogrammed once.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { BinMapperSpec } from '@westream/config';
import { recycledOf, type WestH5 } from '@westream/store';
import type { ApiAppOptions } from './api-app.js';

// Optional with defaults (not required, as the OpenAPI document says); the handler applies the same defaults.
// `dim`'s maximum is this run's last pcoord dimension, so the OpenAPI document admits exactly what is served.
const DEFAULTS = { bins: 60, dim: 0, from: 1 } as const;
const queryFor = (ndim: number) =>
  Type.Object({
    bins: Type.Optional(Type.Integer({ minimum: 2, maximum: 500, default: DEFAULTS.bins })),
    dim: Type.Optional(Type.Integer({ minimum: 0, maximum: ndim - 1, default: DEFAULTS.dim, description: `pcoord dimension (this run has ${ndim})` })),
    from: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULTS.from, description: 'first iteration' })),
  });

const Body = Type.Object({
  dim: Type.Integer(),
  edges: Type.Array(Type.Number()),
  iterations: Type.Array(
    Type.Object({ nIter: Type.Integer(), nSegs: Type.Integer(), hist: Type.Array(Type.Number()), recycledWeight: Type.Number(), nRecycled: Type.Integer() }),
  ),
});

/** The finite span of the config's outer boundaries along `dim`, when it has one. */
function configRange(spec: BinMapperSpec, dim: number): [number, number] | null {
  const base = spec.type === 'RectilinearBinMapper' ? spec : spec.type === 'RecursiveBinMapper' && spec.base.type === 'RectilinearBinMapper' ? spec.base : null;
  const b = base?.boundaries[dim]?.filter((x) => Number.isFinite(x));
  return b && b.length >= 2 ? [b[0] as number, b[b.length - 1] as number] : null;
}

export const evolutionRoutes: FastifyPluginCallbackTypebox<{ o: ApiAppOptions; store: WestH5 }> = (app, { o, store }, done) => {
  const { pcoordLen, pcoordNdim } = o.config.system;
  const Query = queryFor(pcoordNdim);
  const cache = new Map<string, { nIter: number; nSegs: number; hist: number[]; recycledWeight: number; nRecycled: number }>();
  const ranges = new Map<number, [number, number]>();

  async function rangeOf(dim: number): Promise<[number, number]> {
    const known = ranges.get(dim);
    if (known) return known;
    // The config's finite boundaries, widened to the span of iteration 1 plus 10% (the outer bins reach to
    // ±inf, and walkers start and travel there too).
    const fromConfig = configRange(o.config.system.bins, dim);
    const rec = await store.readIteration(1);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = dim; i < rec.pcoord.length; i += pcoordNdim) {
      const v = rec.pcoord[i] as number;
      if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    }
    if (fromConfig) [lo, hi] = [Math.min(lo, fromConfig[0]), Math.max(hi, fromConfig[1])];
    const pad = hi > lo ? 0.1 * (hi - lo) : 1;
    const r: [number, number] = [lo - pad, hi + pad];
    ranges.set(dim, r);
    return r;
  }

  app.get(
    '/evolution',
    {
      schema: {
        summary: 'Per iteration: weighted pcoord histogram (all timepoints) and weight recycled into the targets',
        querystring: Query,
        response: { 200: Body, 400: { $ref: 'Error#' } },
      },
    },
    async (req, reply) => {
      const { bins = DEFAULTS.bins, dim = DEFAULTS.dim, from = DEFAULTS.from } = req.query;
      if (dim >= pcoordNdim)
        return reply.code(400).send({ error: 'Bad Request', message: `dim ${dim}: the pcoord has ${pcoordNdim} dimension(s) (0–${pcoordNdim - 1})` });
      const [lo, hi] = await rangeOf(dim);
      const width = (hi - lo) / bins;
      const last = Math.max(o.monitor.nIter, store.currentIteration) - 1; // finished iterations only
      const iterations = [];
      for (let n = from; n <= last; n++) {
        // As w_pdist counts: a segment's first point repeats its parent's last, so only the first iteration
        // shown counts it.
        const first = n === from ? 0 : 1;
        const key = `${n}/${dim}/${bins}/${first}`;
        let row = cache.get(key);
        if (!row) {
          const rec = await store.readIteration(n);
          const hist = new Array<number>(bins).fill(0);
          let total = 0;
          for (let s = 0; s < rec.nSegs; s++) {
            const w = rec.weights[s] as number;
            for (let t = Math.min(first, pcoordLen - 1); t < pcoordLen; t++) {
              const v = rec.pcoord[(s * pcoordLen + t) * pcoordNdim + dim] as number;
              const b = Math.floor((v - lo) / width);
              if (b >= 0 && b < bins) hist[b] = (hist[b] as number) + w;
              total += w;
            }
          }
          row = { nIter: n, nSegs: rec.nSegs, hist: hist.map((h) => (total > 0 ? h / total : 0)), ...recycledOf(rec) };
          cache.set(key, row);
        }
        iterations.push(row);
      }
      return { dim, edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), iterations };
    },
  );
  done();
};
