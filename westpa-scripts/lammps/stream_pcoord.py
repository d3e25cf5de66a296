#!/usr/bin/env python3
"""The LAMMPS example's progress coordinate in Python with MDAnalysis, instead of westream's builtin pcoord: read
the engine's live IMD v3 stream (imd://, MDAnalysis's IMDReader), take the distance between atoms 1 and 2 in
the box each frame carries (minimum image; LJ units, no conversion) and write it to $WEST_PCOORD_RETURN.

westream runs it beside LAMMPS with WEST_STREAM_HOST, WEST_STREAM_PORT and the segment's WEST_* variables.
Needs the PyPI packages MDAnalysis and imdclient in the python3 on PATH.
"""
import os
import warnings

import MDAnalysis as mda
from MDAnalysis.lib.distances import calc_bonds

warnings.simplefilter("ignore")  # MDAnalysis warns that a LAMMPS data file has no masses by name, etc.
url = f"imd://{os.environ['WEST_STREAM_HOST']}:{os.environ['WEST_STREAM_PORT']}"
# The basis state's data file is the topology: 256 atoms of one type (atom_style atomic).
topology = os.path.join(os.environ["WEST_SIM_ROOT"], "bstates", "lattice", "start.data")
u = mda.Universe(topology, url, atom_style="id type x y z")
values = []
for ts in u.trajectory:
    values.append(float(calc_bonds(u.atoms[0].position, u.atoms[1].position, box=ts.dimensions)))
with open(os.environ["WEST_PCOORD_RETURN"], "w") as f:
    for v in values:
        f.write(f"{v:.9g}\n")
print(f"stream_pcoord.py: {len(values)} frames from {url} (IMD v3, box from the stream), written", flush=True)
