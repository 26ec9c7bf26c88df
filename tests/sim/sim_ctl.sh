#!/bin/bash
# Start or stop one simulator instance for the ctest fixtures in
# tests/cmake/k8s.cmake and world.cmake: sim_ctl.sh start NAME WORLD PORT [KUBESIM ARGS] | stop NAME
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
case "$1" in
  start) sim_start "$2" "$3" "$4" "${@:5}" ;;
  stop) sim_stop "$2" ;;
  *) echo "usage: $0 start NAME WORLD PORT | stop NAME" >&2; exit 2 ;;
esac
