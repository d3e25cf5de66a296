#!/bin/bash
# `westream-toy-md` for the scenario tests: hands a short plain command (run, init, pcoord) to the test run's
# resident engine (packages/testing/src/toy-md-server.ts), which runs the same command code on the same files,
# and exits with its exit code; anything else, or no resident engine (its port unset or unreachable, e.g. from
# another network namespace), runs the real engine. Bash builtins only, so a served segment forks no helper.
real="${BASH_SOURCE[0]%/*}/../../packages/toy-md/bin/westream-toy-md.js"

served() {
  [ -n "${WESTREAM_TEST_TOY_MD_PORT:-}" ] || return 1
  case "${1:-}" in run | init | pcoord) ;; *) return 1 ;; esac
  local a
  for a in "$@"; do
    case "$a" in --imd-* | --out-traj* | --out-xyz* | --frame-interval* | --set*) return 1 ;; esac
  done
  { exec 3<>"/dev/tcp/127.0.0.1/$WESTREAM_TEST_TOY_MD_PORT"; } 2>/dev/null || return 1
  printf '%s\0' toy-md/1 "$#" "$PWD" "${WEST_RAND64:-}" "$@" >&3 || return 1
  local line code=
  while IFS= read -r line <&3; do
    case "$line" in
      "o "*) printf '%s\n' "${line:2}" ;;
      "e "*) printf '%s\n' "${line:2}" >&2 ;;
      "x "*) code=${line:2} ;;
    esac
  done
  exec 3<&-
  case "$code" in '' | declined) return 1 ;; esac
  exit "$code"
}

served "$@"
exec "$real" "$@"
