#!/bin/bash
# One segment of the toy engine streaming its frames over IMD: westream's stream_trajectory reads them and
# computes the progress coordinate, so the engine writes no pcoord or trajectory file at all.
#   port_discovery: engine  -> the engine binds port 0 and prints "IMD: Listening for IMD connection on port N."
#   port_discovery: reserve -> westream picks the port and passes it in $WEST_STREAM_PORT
set -euo pipefail
cd "$WEST_CURRENT_SEG_DATA_REF"
TOY_MD=${TOY_MD:-westream-toy-md}

case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES) ln -sf "$WEST_PARENT_DATA_REF/seg.rst" parent.rst ;;
  SEG_INITPOINT_NEWTRAJ)   ln -sf "$WEST_PARENT_DATA_REF" parent.rst ;;
  *) echo "runseg.sh: unknown WEST_CURRENT_SEG_INITPOINT_TYPE '$WEST_CURRENT_SEG_INITPOINT_TYPE'" >&2; exit 2 ;;
esac

args=(--input "$WEST_SIM_ROOT/md.in" --restart parent.rst --out-restart seg.rst --imd-port "${WEST_STREAM_PORT:-0}" --imd-wait)
# For checking: also let the engine write its own pcoord (the stream's must equal it).
[ -n "${TOY_ENGINE_PCOORD:-}" ] && args+=(--out-pcoord pcoord.dat)
[ -n "${TOY_ENGINE_TRAJ:-}" ] && args+=(--out-traj traj.jsonl)
# A slow engine, to watch a live stream (or to catch a segment mid-stream): seconds between frames.
[ -n "${TOY_FRAME_INTERVAL:-}" ] && args+=(--frame-interval "$TOY_FRAME_INTERVAL")
exec "$TOY_MD" run "${args[@]}"
