#!/bin/bash
# One segment of the toy engine, the way a WESTPA runseg.sh drives an MD engine: link the parent's restart
# (or the basis state), run, hand the progress coordinate back through $WEST_PCOORD_RETURN.
set -euo pipefail
[ -n "${SEG_DEBUG:-}" ] && set -x
cd "$WEST_CURRENT_SEG_DATA_REF"
TOY_MD=${TOY_MD:-westream-toy-md}

case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES) ln -sf "$WEST_PARENT_DATA_REF/seg.rst" parent.rst ;;
  SEG_INITPOINT_NEWTRAJ)   ln -sf "$WEST_PARENT_DATA_REF" parent.rst ;;
  *) echo "runseg.sh: unknown WEST_CURRENT_SEG_INITPOINT_TYPE '$WEST_CURRENT_SEG_INITPOINT_TYPE'" >&2; exit 2 ;;
esac

# The engine seeds itself from $WEST_RAND64, which westream derives from (run seed, iteration, segment).
"$TOY_MD" run --input "$WEST_SIM_ROOT/md.in" --restart parent.rst --out-restart seg.rst --out-pcoord pcoord.dat
cp pcoord.dat "$WEST_PCOORD_RETURN"
