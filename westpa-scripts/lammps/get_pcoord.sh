#!/bin/bash
# Distance between atoms 1 and 2 (minimum image) of a basis state's LAMMPS data file, for init.
set -euo pipefail
awk '/xlo xhi/ { L[1] = $2 - $1 } /ylo yhi/ { L[2] = $2 - $1 } /zlo zhi/ { L[3] = $2 - $1 }
     /^Atoms/ { atoms = 1; next }
     atoms && NF >= 5 && ($1 == 1 || $1 == 2) { x[$1] = $3; y[$1] = $4; z[$1] = $5 }
     /^Velocities/ { atoms = 0 }
     END {
       d[1] = x[2] - x[1]; d[2] = y[2] - y[1]; d[3] = z[2] - z[1]; s = 0
       for (k = 1; k <= 3; k++) { d[k] -= L[k] * int(d[k] / L[k] + (d[k] >= 0 ? 0.5 : -0.5)); s += d[k] * d[k] }
       printf "%.9f\n", sqrt(s)
     }' "$WEST_STRUCT_DATA_REF/start.data" > "$WEST_PCOORD_RETURN"
