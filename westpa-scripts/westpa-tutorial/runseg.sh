#!/bin/bash
# One WE segment in the manner of WESTPA's GROMACS tutorial: grompp and mdrun write seg.trr (every step), then
# `gmx distance` measures the Na-Cl distance in every frame, in Å, into $WEST_PCOORD_RETURN (51 rows).
# Runs the same under w_run and westream: it uses only WESTPA's WEST_* variables.
set -euo pipefail
[ -n "${SEG_DEBUG:-}" ] && set -x
GMX=${GMX:-gmx}
mkdir -p "$WEST_CURRENT_SEG_DATA_REF"
cd "$WEST_CURRENT_SEG_DATA_REF"

case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES)
    # Positions and velocities from the parent's last frame and checkpoint.
    "$GMX" -quiet grompp -f "$WEST_SIM_ROOT/md.mdp" -c "$WEST_PARENT_DATA_REF/seg.gro" -t "$WEST_PARENT_DATA_REF/seg.cpt" \
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
rm -f dist.xvg seg.trr    # what the next segment needs is seg.gro and seg.cpt
