#!/bin/bash
# The wrapper WESTPA-style configs name as stream_trajectory.executable: runs stream_pcoord.py for the toy
# pair system (atoms 0 and 1; every frame: md.in streams pcoord_len frames; Å -> nm).
set -euo pipefail
exec python3 "$WEST_SIM_ROOT/westpa_scripts/stream_pcoord.py" "$WEST_SIM_ROOT/toy.gro" 0 1 1 0.1
