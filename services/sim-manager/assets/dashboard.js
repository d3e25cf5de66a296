// The dashboard: reads the REST API, then follows /events. Plots with Observable Plot (global `Plot`).
/* global Plot */
'use strict';

const $ = (id) => document.getElementById(id);
const api = async (path) => {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
};
const clock = (s) =>
  s == null ? '–' : `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
const doneByNode = new Map();
let status = null;

function put(id, node) {
  const el = $(id);
  el.replaceChildren(node);
  el.dataset.drawn = String(Number(el.dataset.drawn ?? 0) + 1);
}

function drawStatus(s) {
  status = s;
  $('run').textContent = s.runId;
  $('state').textContent = s.state + (s.requested ? ` (${s.requested} requested)` : '');
  $('state').className = `state ${s.state}`;
  $('iter').textContent = s.currentIteration;
  $('of').textContent = s.maxTotalIterations ? ` of ${s.maxTotalIterations}` : '';
  $('elapsed').textContent = clock(s.elapsed);
  $('eta').textContent = clock(s.eta);
  const c = s.segments;
  $('progress').max = Math.max(c.total, 1);
  $('progress').value = c.complete;
  const rows = ['complete', 'running', 'pending', 'failed'].map((k) => ({ status: k, n: c[k] }));
  put(
    'segcounts',
    Plot.plot({
      height: 110,
      marginLeft: 70,
      x: { label: 'segments', grid: true },
      y: { label: null },
      color: { domain: ['complete', 'running', 'pending', 'failed'], range: ['#15803d', '#1d4ed8', '#9ca3af', '#b91c1c'] },
      marks: [Plot.barX(rows, { y: 'status', x: 'n', fill: 'status' }), Plot.text(rows, { y: 'status', x: 'n', text: 'n', dx: 12 })],
    }),
  );
  // Segments running far longer than their iteration's completed ones (no timeout kills them by default).
  const late = s.stragglers ?? [];
  $('stragglers').hidden = late.length === 0;
  $('stragglers').textContent =
    late.length === 0
      ? ''
      : `Straggler${late.length > 1 ? 's' : ''}: ` +
        late.map((g) => `segment ${g.segId} running ${clock(g.runningFor)} (median of ${g.completed} completed: ${g.medianWalltime.toFixed(1)} s)`).join('; ');
  const body = $('nodes').querySelector('tbody');
  body.replaceChildren(
    ...s.workers.map((w) => {
      const tr = document.createElement('tr');
      for (const v of [w.node, w.alive ? 'yes' : 'no', w.slots, w.running.length, doneByNode.get(w.node) ?? 0]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }),
  );
}

async function drawEvolution() {
  const ev = await api('/evolution?bins=60');
  const cells = [];
  const mid = (i) => (ev.edges[i] + ev.edges[i + 1]) / 2;
  for (const it of ev.iterations) it.hist.forEach((p, i) => p > 0 && cells.push({ n: it.nIter, x: mid(i), g: -Math.log(p) }));
  const dy = ev.edges[1] - ev.edges[0];
  put(
    'heatmap',
    Plot.plot({
      height: 300,
      marginLeft: 50,
      x: { label: 'iteration' },
      y: { label: `pcoord[${ev.dim}]`, domain: [ev.edges[0], ev.edges[ev.edges.length - 1]] },
      color: { scheme: 'viridis', reverse: true, legend: true, label: '−ln P' },
      marks: [Plot.rect(cells, { x1: (d) => d.n - 0.5, x2: (d) => d.n + 0.5, y1: (d) => d.x - dy / 2, y2: (d) => d.x + dy / 2, fill: 'g' })],
    }),
  );
  // Rate: flux per iteration (τ units) and its running average over the iterations so far.
  let sum = 0;
  const rate = ev.iterations.map((it, k) => ((sum += it.recycledWeight), { n: it.nIter, flux: it.recycledWeight, avg: sum / (k + 1) }));
  put(
    'rate',
    Plot.plot({
      caption: rate.length
        ? `running average after iteration ${rate[rate.length - 1].n}: ${rate[rate.length - 1].avg.toExponential(3)} per τ`
        : 'no finished iteration yet',
      height: 220,
      marginLeft: 60,
      x: { label: 'iteration' },
      y: { label: 'flux (weight / τ)', grid: true, tickFormat: (d) => (d === 0 ? '0' : d.toExponential(1)) },
      marks: [Plot.dot(rate, { x: 'n', y: 'flux', r: 2, fill: '#9ca3af' }), Plot.line(rate, { x: 'n', y: 'avg', stroke: '#b91c1c' }), Plot.ruleY([0])],
    }),
  );
}

async function drawBins(n) {
  const it = await api(`/iterations/${n}`);
  // Weights span decades: a log axis, bars from below the smallest weight.
  const floor = Math.min(...it.bins.map((b) => b.weight)) / 4;
  put(
    'bins',
    Plot.plot({
      caption: adaptiveCaption(it.adaptiveBins),
      height: 220,
      marginLeft: 60,
      x: { label: 'bin', type: 'band', tickFormat: (d, i) => (i % Math.ceil(it.bins.length / 12) ? '' : d) },
      y: { label: 'weight', type: 'log', grid: true, domain: [floor, 1.5] },
      marks: [
        Plot.barY(it.bins, {
          x: 'bin',
          y1: floor,
          y2: 'weight',
          fill: '#1d4ed8',
          title: (d) => `${d.label}: ${d.count} segments, weight ${d.weight.toExponential(2)}`,
        }),
        Plot.text(it.bins, { x: 'bin', y: 'weight', text: 'count', dy: -6 }),
      ],
    }),
  );
}

/** The MAB / binless bins the resampler placed for this iteration, in words (they move every iteration). */
function adaptiveCaption(records) {
  if (!records || records.length === 0) return undefined;
  const num = (x) => (x === null || x === undefined ? '–' : Number(x).toPrecision(4));
  const pt = (p) => (p ? `(${p.map(num).join(', ')})` : 'none');
  return records
    .map((r) => {
      const at = r.firstBin >= 0 ? `bins ${r.firstBin}–${r.firstBin + r.nbins - 1}` : `${r.nbins} bins`;
      if (r.type === 'BinlessMapper') return `binless, ${at}: ${r.groupSizes.join(' / ')} walkers per group`;
      const dims = r.boundaries.map((b, d) => `dim ${d}: ${b.length - 1} bins from ${num(b[0])} to ${num(b[b.length - 1])}`).join('; ');
      const bn = r.maxBottleneck
        ? `; bottleneck walkers ${r.bottlenecksForward.map(pt).join(' ')} fwd, ${r.bottlenecksReverse.map(pt).join(' ')} rev (${r.nBottleneckFilled} filled)`
        : '';
      return `MAB, ${at}, from ${r.nPoints} walkers: ${dims}${bn}`;
    })
    .join(' · ');
}

let pending = null;
function refreshSoon(what) {
  pending ??= new Set();
  pending.add(what);
  setTimeout(async () => {
    const p = pending;
    pending = null;
    if (!p) return;
    try {
      const s = await api('/status');
      drawStatus(s);
      if (p.has('iteration')) await Promise.all([drawEvolution(), drawBins(s.currentIteration)]);
    } catch (e) {
      console.warn(e);
    }
  }, 250);
}

async function start() {
  const s = await api('/status');
  drawStatus(s);
  await Promise.all([drawEvolution(), drawBins(s.currentIteration)]);
  document.body.dataset.ready = 'true';
  const es = new EventSource('/events');
  es.onopen = () => {
    $('conn').textContent = 'live';
    $('conn').className = 'muted';
  };
  es.onerror = () => {
    $('conn').textContent = 'connection lost, retrying…';
    $('conn').className = 'lost';
  };
  es.addEventListener('segment-finished', (e) => {
    const d = JSON.parse(e.data);
    if (d.node) doneByNode.set(d.node, (doneByNode.get(d.node) ?? 0) + 1);
    refreshSoon('status');
  });
  for (const t of ['segment-started', 'segment-failed', 'run-state', 'worker-joined', 'worker-left']) es.addEventListener(t, () => refreshSoon('status'));
  for (const t of ['iteration-finished', 'iteration-started']) es.addEventListener(t, () => refreshSoon('iteration'));
  setInterval(() => status && refreshSoon('status'), 5000);
}

start().catch((e) => {
  $('conn').textContent = `error: ${e.message}`;
  $('conn').className = 'lost';
});
