# container/common.sh - helpers of the container-input integration tests
# (tests/integration/container_*.sh). Sourced after lib.sh; in a subfolder so ctest does not
# register it as a test.
#
#   container_conf FILE PATHS INPUT-EXTRA
#       an agent.conf with one [input NAME=ctr] tailing PATHS (a glob), INPUT-EXTRA lines
#       (format, parser, ...) inserted verbatim, into $T/out/out.ndjson; data_dir $T/data, a
#       short registry_flush, a rescan_interval of an hour (inotify does the work).
container_conf() {
    cat >"$1" <<CONF
[agent]
data_dir = $T/data
registry_flush = 100ms
rescan_interval = 1h
shutdown_timeout = 20s
[input ctr]
paths = $2
$3
[output file]
path = $T/out/out.ndjson
CONF
}
