// WE efficiency: the total MD time weighted ensemble needs to estimate a rate within 20 %, against the MD time
// brute force needs for the same precision, for barriers of 4, 6 and 8 kT — the number a WE user cares about.
//
// Both run the same in-process Brownian dynamics (@westream/testing: U = h(x² − 1)², D = kT = 1, τ = 0.1,
// the target x ≥ 1 tested every τ); WE runs through the real loop, work manager and west.h5.
// - Reference rate: brute force, many independent passages (its own error is printed).
// - WE: per seed, the running estimate after iteration n is the mean flux over iterations n/2..n (the reporter's
//   estimator); WE's MD time-to-20 % is the MD time (segments × τ) at the first iteration after which the
//   estimate stays within ±20 % of the reference to the end of the run. Averaged over seeds.
// - Brute force: a rate from n passages has relative error CV/√n (CV = sd/mean of the passage times, ≈ 1),
//   so 20 % needs n = (CV/0.2)² passages, n·MFPT of MD time.
import { doubleWell, firstPassages, fluxSeries, meanSe, rateFromPassages, runWe } from '@westream/testing';

const BARRIERS = [4, 6, 8];
const SEEDS = [1, 2];
/** Iterations per WE run: enough for the estimate to settle (a run that never settles counts as its full MD time). */
const ITERS = { 4: 200, 6: 500, 8: 600 };
const EDGES = [-Infinity, -1.2, -1.0, -0.8, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1.0, Infinity];
const PER_BIN = 8;
const dynamics = (h) => ({ potential: doubleWell(h), dt: 1e-3, steps: 100 });

export async function run() {
  const rows = [];
  for (const h of BARRIERS) {
    const dyn = dynamics(h);
    const tau = dyn.dt * dyn.steps;
    const events = h <= 6 ? 1000 : 200;
    const bf = firstPassages(dyn, { x0: -1, inTarget: (x) => x >= 1, events, seed: 20261202n + BigInt(h) });
    const ref = rateFromPassages(bf.times);
    const mfpt = 1 / ref.mean;
    const sd = Math.sqrt(bf.times.reduce((a, t) => a + (t - mfpt) ** 2, 0) / (bf.times.length - 1));
    const cv = sd / mfpt;
    const bfNeeded = (cv / 0.2) ** 2 * mfpt;
    const weTimes = [];
    let censored = 0;
    for (const seed of SEEDS) {
      const r = await runWe({
        bins: { type: 'RectilinearBinMapper', boundaries: [EDGES] },
        binTargetCounts: PER_BIN,
        pcoordLen: 2,
        ...dyn,
        bstates: [{ label: 'left', probability: 1, x: -1 }],
        tstates: [{ label: 'right', x: 1 }],
        iterations: ITERS[h],
        seed,
      });
      const fl = await fluxSeries(r.westH5, tau);
      const { WestH5 } = await import('@westream/store');
      const store = await WestH5.open(r.westH5, { readOnly: true });
      const mdAt = [];
      let md = 0;
      for (let n = 1; n < store.currentIteration; n++) mdAt.push((md += (await store.readIteration(n)).nSegs * tau));
      let since = -1;
      for (let n = 1; n <= fl.length; n++) {
        const half = fl.slice(Math.floor(n / 2), n);
        const est = half.reduce((a, b) => a + b, 0) / half.length;
        const ok = Math.abs(est / ref.mean - 1) <= 0.2;
        if (ok && since < 0) since = n;
        if (!ok) since = -1;
      }
      if (since < 0) {
        censored++;
        weTimes.push(mdAt[mdAt.length - 1]);
      } else weTimes.push(mdAt[since - 1]);
    }
    const we = meanSe(weTimes);
    rows.push({
      name: `WE efficiency, ${h} kT barrier: MD time to a rate within 20 % (mean of ${SEEDS.length} seeds)`,
      value: we.mean,
      unit: 'time units',
      goal: 'reported: WE / brute force, and how it grows with the barrier',
      peer: `brute force, same dynamics: (CV/0.2)² passages × MFPT ${mfpt.toFixed(1)}`,
      peerValue: bfNeeded,
      ratio: bfNeeded / we.mean,
      ratioLabel: 'brute force / WE',
      detail: `${h} kT: reference k = ${ref.mean.toExponential(3)} ± ${((100 * ref.se) / ref.mean).toFixed(1)} % (${bf.times.length} passages, CV ${cv.toFixed(2)}); WE (${EDGES.length - 1} bins × ${PER_BIN}, τ = ${tau}) per seed ${weTimes.map((t) => t.toFixed(0)).join(', ')} time units (± ${we.se.toFixed(0)})${censored ? `; ${censored} seed(s) not within 20 % by iteration ${ITERS[h]} (counted at the run's full MD time: a lower bound)` : ''}; brute force ${bfNeeded.toFixed(0)} time units.`,
    });
    process.stderr.write(`  ${rows[rows.length - 1].detail}\n`);
  }
  return rows;
}
