#!/usr/bin/env python3
"""What stream_trajectory's `builtin: pcoord` does, in Python with MDAnalysis, for users who want their own
analysis: read the engine's live IMD stream (imd://), compute the distance between two atoms (minimum image),
and write the progress coordinate to $WEST_PCOORD_RETURN.

westream runs it beside the engine with WEST_STREAM_HOST, WEST_STREAM_PORT and the segment's WEST_* variables.
usage: stream_pcoord.py TOPOLOGY ATOM_A ATOM_B STRIDE SCALE
"""
import os
import sys

import MDAnalysis as mda
from MDAnalysis.lib.distances import calc_bonds

topology, a, b, stride, scale = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
url = f"imd://{os.environ['WEST_STREAM_HOST']}:{os.environ['WEST_STREAM_PORT']}"
u = mda.Universe(topology, url)
values = []
for ts in u.trajectory:
    box = ts.dimensions if ts.dimensions is not None and ts.dimensions[:3].any() else None
    values.append(float(calc_bonds(u.atoms[a].position, u.atoms[b].position, box=box)) * scale)
with open(os.environ["WEST_PCOORD_RETURN"], "w") as f:
    for v in values[::stride]:
        f.write(f"{v}\n")
print(f"stream_pcoord.py: {len(values)} frames from {url}, every {stride}. written", flush=True)
