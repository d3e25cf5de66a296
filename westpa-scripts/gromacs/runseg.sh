#!/bin/bash
# One WE segment with GROMACS streaming over IMD: mdrun binds port 0 and prints
# "IMD: Listening for IMD connection on port N." on stderr (merged into the segment log by west.cfg);
# westream's stream_trajectory reads the port there and computes the Na-Cl distance from the stream.
set -euo pipefail
cd "$WEST_CURRENT_SEG_DATA_REF"
GMX=${GMX:-gmx}

case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES)
    # Positions and velocities from the parent's checkpoint (full precision).
    "$GMX" -quiet grompp -f "$WEST_SIM_ROOT/md.mdp" -c "$WEST_PARENT_DATA_REF/seg.gro" -t "$WEST_PARENT_DATA_REF/seg.cpt" \
      -p "$WEST_SIM_ROOT/topol.top" -o seg.tpr -po seg-out.mdp -maxwarn 2 ;;
  SEG_INITPOINT_NEWTRAJ)
    # A new trajectory from the basis state, with Maxwell-Boltzmann velocities seeded by westream.
    sed -e "s/^continuation .*/continuation = no/" -e "s/^gen-vel .*/gen-vel = yes/" -e "s/^gen-seed .*/gen-seed = $WEST_RAND16/" \
      "$WEST_SIM_ROOT/md.mdp" > seg.mdp
    "$GMX" -quiet grompp -f seg.mdp -c "$WEST_PARENT_DATA_REF/conf.gro" -p "$WEST_SIM_ROOT/topol.top" -o seg.tpr -po seg-out.mdp -maxwarn 2 ;;
  *) echo "runseg.sh: unknown WEST_CURRENT_SEG_INITPOINT_TYPE '$WEST_CURRENT_SEG_INITPOINT_TYPE'" >&2; exit 2 ;;
esac
exec "$GMX" -quiet mdrun -deffnm seg -nt 1 -imdwait -imdport 0
