#!/bin/bash
# An initial state from a basis state, as the tutorial makes them: a copy of the basis state's structure at
# $WEST_ISTATE_DATA_REF (istates/ITER/ID). get_pcoord.sh then measures it.
set -euo pipefail
mkdir -p "$(dirname "$WEST_ISTATE_DATA_REF")"
cp "$WEST_BSTATE_DATA_REF" "$WEST_ISTATE_DATA_REF"
