/** Series a science test reads back from west.h5 (through the real store): fluxes and bin probabilities. */
import { recycledOf, WestH5 } from '@westream/store';

/** Recycled weight / τ of every iteration from `first` to the last recorded one: the WE flux into the target. */
export async function fluxSeries(westH5: string, tau: number, first = 1): Promise<number[]> {
  const store = await WestH5.open(westH5, { readOnly: true });
  const out: number[] = [];
  for (let n = first; n < store.currentIteration; n++) out.push(recycledOf(await store.readIteration(n)).recycledWeight / tau);
  return out;
}

/**
 * Per iteration from `first`, the probability in each interval between `edges`: every segment's weight spread
 * over its pcoord points after the first (the first is its parent's last, already counted).
 */
export async function binProbabilitySeries(westH5: string, edges: readonly number[], first = 1): Promise<number[][]> {
  const store = await WestH5.open(westH5, { readOnly: true });
  const len = store.meta.pcoordLen;
  const out: number[][] = [];
  for (let n = first; n < store.currentIteration; n++) {
    const it = await store.readIteration(n);
    const p = new Array<number>(edges.length - 1).fill(0);
    for (let s = 0; s < it.nSegs; s++) {
      const w = (it.weights[s] as number) / (len - 1);
      for (let t = 1; t < len; t++) {
        const x = it.pcoord[s * len + t] as number;
        let b = 0;
        while (b + 2 < edges.length && x >= (edges[b + 1] as number)) b++;
        if (x >= (edges[0] as number) && x < (edges[edges.length - 1] as number)) p[b] = (p[b] as number) + w;
      }
    }
    out.push(p);
  }
  return out;
}
