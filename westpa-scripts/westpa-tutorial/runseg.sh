#!/bin/bash
# One WE segment in the manner of WESTPA's GROMACS tutorial with its HDF5 framework (west.cfg sets
# data_refs.iteration): grompp and mdrun write seg.trr (every step), then `gmx distance` measures the Na-Cl
# distance in every frame, in Å, into $WEST_PCOORD_RETURN (51 rows). What a child needs (the last frame and
# the checkpoint, as parent.gro and parent.cpt) goes to $WEST_RESTART_RETURN, the trajectory (seg.trr and a
# .gro topology) to $WEST_TRAJECTORY_RETURN, mdrun's log to $WEST_LOG_RETURN: all of it lands in
# traj_segs/iter_NNNNNN.h5, and a child finds parent.* in its own directory before it starts.
# Runs the same under w_run and westream: it uses only WESTPA's WEST_* variables.
set -euo pipefail
[ -n "${SEG_DEBUG:-}" ] && set -x
GMX=${GMX:-gmx}
mkdir -p "$WEST_CURRENT_SEG_DATA_REF"
cd "$WEST_CURRENT_SEG_DATA_REF"

case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES)
    # The parent's last frame and checkpoint, extracted here from the last iteration's file.
    "$GMX" -quiet grompp -f "$WEST_SIM_ROOT/md.mdp" -c parent.gro -t parent.cpt \
      -p "$WEST_SIM_ROOT/topol.top" -o seg.tpr -po seg-out.mdp -maxwarn 2 ;;
  SEG_INITPOINT_NEWTRAJ)
    # From the initial state gen_istate.sh made (a .gro without its suffix), with new velocities.
    cp "$WEST_PARENT_DATA_REF" parent.gro
    sed -e "s/^continuation .*/continuation = no/" -e "s/^gen-vel .*/gen-vel = yes/" -e "s/^gen-seed .*/gen-seed = $WEST_RAND16/" \
      "$WEST_SIM_ROOT/md.mdp" > seg.mdp
    "$GMX" -quiet grompp -f seg.mdp -c parent.gro -p "$WEST_SIM_ROOT/topol.top" -o seg.tpr -po seg-out.mdp -maxwarn 2 ;;
  *) echo "runseg.sh: unknown WEST_CURRENT_SEG_INITPOINT_TYPE '$WEST_CURRENT_SEG_INITPOINT_TYPE'" >&2; exit 2 ;;
esac
"$GMX" -quiet mdrun -deffnm seg -nt 1

# Atoms 658 and 659 (1-based) are Na and Cl; nm -> Å, as the tutorial's bins are in Å.
"$GMX" -quiet distance -s seg.tpr -f seg.trr -select 'atomnr 658 plus atomnr 659' -oall dist.xvg
awk '!/^[#@]/ { printf "%.4f\n", $2 * 10 }' dist.xvg > "$WEST_PCOORD_RETURN"

# The HDF5 framework's returns.
cp seg.gro "$WEST_RESTART_RETURN/parent.gro"
cp seg.cpt "$WEST_RESTART_RETURN/parent.cpt"
cp seg.gro "$WEST_TRAJECTORY_RETURN/topology.gro"
cp seg.trr "$WEST_TRAJECTORY_RETURN/seg.trr"
cp seg.log "$WEST_LOG_RETURN"
rm -f dist.xvg seg.trr    # the trajectory is in the iteration file now
