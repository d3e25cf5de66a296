/** `westream status --url U [--json] [--watch]`: a running sim-manager's REST API, rendered as a table. */
import type { StatusBody } from '@westream/sim-manager';
import { toJson } from './json-output.js';
import { UsageError } from './exit-codes.js';

async function fetchStatus(url: string): Promise<StatusBody> {
  let r: Response;
  try {
    r = await fetch(new URL('/status', url), { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new UsageError(
      `cannot reach the sim-manager at ${url} (${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message}); is 'westream run' running with its API on that address?`,
    );
  }
  if (!r.ok) throw new UsageError(`${url}/status answered ${r.status}; is this a westream sim-manager?`);
  return (await r.json()) as StatusBody;
}

const clock = (s: number | null): string =>
  s === null ? '–' : `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

export function renderStatus(s: StatusBody): string {
  const c = s.segments;
  const lines = [
    `run ${s.runId} (${s.workManager}) — ${s.state}${s.requested ? ` (${s.requested} requested)` : ''}`,
    `  iteration      ${s.currentIteration}${s.maxTotalIterations ? ` of ${s.maxTotalIterations}` : ''}`,
    `  segments       ${c.complete} complete, ${c.running} running, ${c.pending} pending, ${c.failed} failed (of ${c.total})`,
    `  elapsed        ${clock(s.elapsed)}    ETA ${clock(s.eta)}`,
  ];
  if (s.lastIteration)
    lines.push(
      `  last iteration ${s.lastIteration.nIter}: ${s.lastIteration.nSegs} segments in ${s.lastIteration.walltime.toFixed(1)} s, recycled ${s.lastIteration.nRecycled} (weight ${s.lastIteration.recycledWeight.toExponential(2)})`,
    );
  for (const g of s.stragglers ?? [])
    lines.push(
      `  STRAGGLER      segment ${g.segId} of iteration ${g.nIter}: running ${g.runningFor.toFixed(0)} s, median of ${g.completed} completed ${g.medianWalltime.toFixed(1)} s`,
    );
  lines.push('', '  node                 alive  slots  running  last heartbeat');
  for (const w of s.workers)
    lines.push(
      `  ${w.node.padEnd(20)} ${(w.alive ? 'yes' : 'NO').padEnd(6)} ${String(w.slots).padEnd(6)} ${String(w.running.length).padEnd(8)} ${w.lastHeartbeat}${w.draining ? ' (draining)' : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

export async function commandStatusLive(a: { url: string; json: boolean; watch: boolean }, out: NodeJS.WritableStream): Promise<void> {
  for (;;) {
    const s = await fetchStatus(a.url);
    if (a.json) out.write(`${toJson(s)}\n`);
    else out.write(`${a.watch ? '\x1b[H\x1b[2J' : ''}${renderStatus(s)}`);
    if (!a.watch || s.state === 'done' || s.state === 'failed') return;
    await new Promise((r) => setTimeout(r, 2000));
  }
}
