/** Sim roots with the Python set-ups of test/fixtures/python-setups (a WESTPA user's own modules). */
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PY_SETUPS = fileURLToPath(new URL('../fixtures/python-setups/', import.meta.url));

/** A fresh sim root holding the set-up modules and `west.cfg` with `body` under `west:`. */
export function pythonSimRoot(body: string, prefix = 'westream-py-'): { root: string; cfg: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const f of readdirSync(PY_SETUPS)) if (f.endsWith('.py')) copyFileSync(join(PY_SETUPS, f), join(root, f));
  const cfg = join(root, 'west.cfg');
  writeFileSync(cfg, `# a WESTPA config with Python pieces\nwest:\n${body}`);
  return { root, cfg };
}

/** The `west:` body of an ODLD-style config: Python system + Python propagator. */
export function odldBody(o: { driver?: string; propagator?: string; iterations?: number; blockSize?: number; extra?: string } = {}): string {
  return `  system:
    driver: ${o.driver ?? 'odld_like.DoubleWellSystem'}
  propagation:
    max_total_iterations: ${o.iterations ?? 3}
    propagator: ${o.propagator ?? 'odld_like.DoubleWellPropagator'}
    gen_istates: false
    block_size: ${o.blockSize ?? 10}
  data:
    west_data_file: west.h5
    datasets:
      - name: pcoord
        scaleoffset: null
${o.extra ?? ''}`;
}
