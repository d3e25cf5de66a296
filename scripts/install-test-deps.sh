#!/usr/bin/env bash
# Installs what the tests need that a fresh Debian 12 machine lacks. Idempotent: each item is skipped when present.
# Python peers: WESTPA (its WEDriver and bin mappers are the reference the WE core is checked against).
set -euo pipefail

need_pip=()
python3 -c 'import westpa' 2>/dev/null || need_pip+=('westpa==2022.16')
python3 -c 'import h5py' 2>/dev/null || need_pip+=('h5py')
if ((${#need_pip[@]})); then
  echo "install-test-deps: pip install ${need_pip[*]}"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${need_pip[@]}"
else
  echo "install-test-deps: Python packages present (westpa, h5py)"
fi

need_apt=()
# (Debian packages join here as the tests that need them land: redis-server, gromacs, lammps.)
if ((${#need_apt[@]})); then
  echo "install-test-deps: apt-get install ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
