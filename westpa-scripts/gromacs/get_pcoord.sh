#!/bin/bash
# The Na-Cl distance (nm, minimum image in the rectangular box) of a basis state's conf.gro, for init.
set -euo pipefail
awk 'NR == 2 { n = $1 }
     NR > 2 && NR <= n + 2 { x[NR - 2] = substr($0, 21, 8); y[NR - 2] = substr($0, 29, 8); z[NR - 2] = substr($0, 37, 8) }
     NR == n + 3 { L[1] = $1; L[2] = $2; L[3] = $3 }
     END {
       d[1] = x[n] - x[n - 1]; d[2] = y[n] - y[n - 1]; d[3] = z[n] - z[n - 1]; s = 0
       for (k = 1; k <= 3; k++) { d[k] -= L[k] * int(d[k] / L[k] + (d[k] >= 0 ? 0.5 : -0.5)); s += d[k] * d[k] }
       printf "%.6f\n", sqrt(s)
     }' "$WEST_STRUCT_DATA_REF/conf.gro" > "$WEST_PCOORD_RETURN"
