#!/bin/bash
# The Na-Cl distance (Å) of a basis or initial state, a .gro file, measured as runseg.sh measures segments:
# `gmx distance` (minimum image) on the structure alone.
set -euo pipefail
[ -n "${SEG_DEBUG:-}" ] && set -x
GMX=${GMX:-gmx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$WEST_STRUCT_DATA_REF" "$tmp/state.gro"     # an initial state's file has no suffix; gmx wants one
"$GMX" -quiet distance -s "$tmp/state.gro" -f "$tmp/state.gro" -select 'atomnr 658 plus atomnr 659' -oall "$tmp/dist.xvg" > /dev/null 2>&1
awk '!/^[#@]/ { printf "%.4f\n", $2 * 10 }' "$tmp/dist.xvg" > "$WEST_PCOORD_RETURN"
