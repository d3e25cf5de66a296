#!/bin/bash
# After each iteration, as in the tutorials: its segment logs go into one archive, seg_logs/ITER.tar.gz.
set -euo pipefail
cd "$WEST_SIM_ROOT/seg_logs"
iter=$(printf '%06d' "$WEST_CURRENT_ITER")
shopt -s nullglob
logs=("$iter"-*.log)
if [ ${#logs[@]} -gt 0 ]; then
  tar -czf "$iter.tar.gz" "${logs[@]}"
  rm -f "${logs[@]}"
fi
