#!/bin/bash
# The progress coordinate of a basis or initial state ($WEST_STRUCT_DATA_REF), for westream/w_init.
set -euo pipefail
TOY_MD=${TOY_MD:-westream-toy-md}
"$TOY_MD" pcoord --input "$WEST_SIM_ROOT/md.in" --restart "$WEST_STRUCT_DATA_REF" > "$WEST_PCOORD_RETURN"
