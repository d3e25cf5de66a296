/**
 * The test set-up of WESTPA's HDF5 framework (data_refs.iteration), as WESTPA's NaCl tutorial uses it: a
 * runseg.sh that takes its parent's restart files (parent.*) from its own directory, returns its restart, log and
 * trajectory (a .gro topology and an XYZ trajectory of the walk) through WEST_*_RETURN; the random-walk sim root.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO, script, westream } from './sim-dir.js';

export const RUNSEG = `set -euo pipefail
cd "$WEST_CURRENT_SEG_DATA_REF"
if [ "$WEST_CURRENT_SEG_INITPOINT_TYPE" = SEG_INITPOINT_CONTINUES ]; then
  x0=$(cat parent.last)            # extracted from the parent's restart, not read from WEST_PARENT_DATA_REF
  cat parent.history > history
else
  x0=$(cat "$WEST_PARENT_DATA_REF")
  : > history
fi
awk -v x="$x0" -v s="$WEST_RAND32" 'BEGIN { srand(s); printf "%.6f\\n", x; for (i = 1; i < 5; i++) { x += (rand() - 0.45) * 0.4; printf "%.6f\\n", x } }' > pcoord.txt
cp pcoord.txt "$WEST_PCOORD_RETURN"
echo "$WEST_CURRENT_ITER:$WEST_CURRENT_SEG_ID" >> history
tail -n 1 pcoord.txt > "$WEST_RESTART_RETURN/parent.last"
cp history "$WEST_RESTART_RETURN/parent.history"
echo "engine log of segment $WEST_CURRENT_SEG_ID, iteration $WEST_CURRENT_ITER" > "$WEST_LOG_RETURN"
# The trajectory as an engine leaves it: a .gro topology (as in the NaCl tutorial) and an XYZ trajectory (Å),
# the Na ion's x the walk (in nm), for WESTPA's trajectory loader (mdtraj) to read.
printf 'NaCl\\n    2\\n    1NA      NA    1   0.000   0.000   0.000\\n    2CL      CL    2   0.500   0.000   0.000\\n   3.00000   3.00000   3.00000\\n' > "$WEST_TRAJECTORY_RETURN/nacl.gro"
awk '{ printf "2\\nframe %d\\nNa %.4f 0.0 0.0\\nCl 5.0 0.0 0.0\\n", NR, $1 * 10 }' pcoord.txt > "$WEST_TRAJECTORY_RETURN/seg.xyz"`;

export function frameworkSimRoot(o: { iterations: number; init?: string[] }): string {
  const root = mkdtempSync(join(tmpdir(), 'westream-h5framework-'));
  cpSync(join(REPO, 'test/fixtures/randomwalk'), root, { recursive: true });
  const yaml = readFileSync(join(root, 'west.yaml'), 'utf8')
    .replace('max_total_iterations: 12', `max_total_iterations: ${o.iterations}`)
    .replace('    data_refs:\n', '    data_refs:\n      iteration: $WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5\n');
  writeFileSync(join(root, 'west.cfg'), yaml);
  rmSync(join(root, 'west.yaml'));
  script(root, 'runseg.sh', RUNSEG);
  const init = westream(root, ['init', '--config', 'west.cfg', '--bstate', 'origin,1.0,origin', '--segs-per-state', '4', ...(o.init ?? [])]);
  expect(init.code, init.stderr + init.stdout).toBe(0);
  return root;
}
