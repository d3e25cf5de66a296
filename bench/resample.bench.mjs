// Resample 100,000 walkers in 1,000 bins (2-D rectilinear, 40 × 25), including bin assignment and recycling
// into one target, against WESTPA's own WEDriver (PyPI westpa) on the same input in the same run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RectilinearBinMapper, Rng, WESTPA_WE_DEFAULTS, resample } from '../packages/we/dist/index.js';

const N = 100_000;
const boundaries = [Array.from({ length: 41 }, (_, i) => i), Array.from({ length: 26 }, (_, i) => i)];
const mapper = new RectilinearBinMapper(boundaries);
const counts = new Array(mapper.nbins).fill(100);

function makeInput(seed) {
  const rng = Rng.derive(BigInt(seed));
  // weights spread over 12 decades, as in a WE run that has pushed probability over a barrier
  const raw = Array.from({ length: N }, () => 10 ** (-12 * rng.float64()));
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);
  const finals = new Float32Array(2 * N);
  for (let i = 0; i < N; i++) {
    finals[2 * i] = Math.fround(rng.float64() * 40);
    finals[2 * i + 1] = Math.fround(rng.float64() * 25);
  }
  return { weights, finals };
}

export async function run() {
  const { weights, finals } = makeInput(1);
  const inits = new Float32Array(2 * N).fill(0.5);
  const targetStates = [{ id: 0, pcoord: [39.5, 24.5] }];
  const initialStates = Array.from({ length: 400 }, (_, i) => ({ id: i, pcoord: [0.5, 0.5] }));
  const once = (k) => {
    const t0 = process.hrtime.bigint();
    const r = resample({
      mapper,
      targetCounts: counts,
      params: WESTPA_WE_DEFAULTS,
      rng: Rng.derive(2n, k),
      segments: { nSegs: N, weights, initPoints: inits, finalPoints: finals },
      targetStates,
      initialStates,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, nNext: r.next.length, nRecycled: r.recycled.length };
  };
  for (let k = 0; k < 3; k++) once(k); // warm-up (JIT)
  const runs = Array.from({ length: 15 }, (_, k) => once(100 + k));
  const ours = median(runs.map((r) => r.ms));

  // WESTPA: the same walkers, assignment + construct_next timed inside Python
  const script = fileURLToPath(new URL('../packages/we/test/westpa_reference.py', import.meta.url));
  const finalsList = Array.from({ length: N }, (_, i) => [finals[2 * i], finals[2 * i + 1]]);
  const c = {
    kind: 'we',
    ndim: 2,
    bins: { type: 'RectilinearBinMapper', boundaries },
    counts,
    weights,
    inits: finalsList.map(() => [0.5, 0.5]),
    finals: finalsList,
    tstates: [[39.5, 24.5]],
    istates: initialStates,
  };
  let westpa = null;
  const repeats = 3;
  const r = spawnSync('python3', [script], { input: JSON.stringify(Array(repeats).fill(c)), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status === 0) westpa = median(JSON.parse(r.stdout).map((x) => x.seconds * 1000));
  else console.error(`WESTPA not measured: ${r.stderr.trim().split('\n').pop()}`);

  return [
    {
      name: 'Resample 100,000 walkers, 1,000 bins (2-D), incl. assignment + recycling',
      value: ours,
      unit: 'ms',
      goal: '≤ 100 ms',
      peer: 'WESTPA 2022.16 WEDriver (assign + construct_next)',
      peerValue: westpa,
      ratio: westpa === null ? null : westpa / ours,
      ratioLabel: 'WESTPA / westream',
      detail: `median of ${runs.length} runs after 3 warm-ups (westream), ${repeats} runs (WESTPA); ${runs[0].nNext} walkers out, ${runs[0].nRecycled} recycled`,
    },
  ];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
