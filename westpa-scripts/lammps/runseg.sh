#!/bin/bash
# One WE segment with LAMMPS: the IMD port comes from westream in $WEST_STREAM_PORT (port_discovery: reserve).
set -euo pipefail
cd "$WEST_CURRENT_SEG_DATA_REF"
LMP=${LMP:-lmp}
case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES) vars=(-var newtraj 0 -var parent "$WEST_PARENT_DATA_REF/seg.restart" -var start none -var seed $((WEST_RAND16 + 1))) ;;
  SEG_INITPOINT_NEWTRAJ)   vars=(-var newtraj 1 -var start "$WEST_PARENT_DATA_REF/start.data" -var parent none -var seed $((WEST_RAND16 + 1))) ;;
  *) echo "runseg.sh: unknown WEST_CURRENT_SEG_INITPOINT_TYPE '$WEST_CURRENT_SEG_INITPOINT_TYPE'" >&2; exit 2 ;;
esac
exec "$LMP" -in "$WEST_SIM_ROOT/in.seg" -log seg.log -var port "$WEST_STREAM_PORT" "${vars[@]}"
