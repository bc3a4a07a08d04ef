#!/usr/bin/env bash
# The project's main job. Today: install dependencies, build the release preset, run the
# core tests, say where the results are. Fuzzing, stress, benchmarks and the rendered
# report join here as they land.
#
#   ./workbench.sh          the normal run
#   ./workbench.sh --long   reserved for the long fuzz/stress/bench campaign (later);
#                           accepted now and runs the normal job
set -euo pipefail

usage() { sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

long=0
for arg in "$@"; do
  case $arg in
    --long) long=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "workbench: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
if [ $long -eq 1 ]; then
  echo "workbench: --long is reserved for the long runs, which do not exist yet;" \
       "running the normal job"
fi

bash ci/install_deps.sh
cmake --preset release
cmake --build --preset release
rc=0
ctest --preset release -j "$(nproc)" || rc=$?

echo
echo "workbench: build in   $root/build/release"
echo "workbench: test log   $root/build/release/Testing/Temporary/LastTest.log"
[ $rc -eq 0 ] && echo "workbench: ok" || echo "workbench: tests FAILED (ctest exit $rc)"
exit $rc
