#!/usr/bin/env bash
# labels: torture;torture-long
# timeout: 2400
# torture_crash_long: torture_crash for TORTURE_SECONDS (default 120) with TORTURE_KILLS
# (default 20) kill -9s. Excluded from the normal run with `ctest -LE torture-long`; CI runs it
# with a bounded duration: TORTURE_SECONDS=300 ctest -L torture-long.
export TORTURE_SECONDS=${TORTURE_SECONDS:-120}
export TORTURE_KILLS=${TORTURE_KILLS:-20}
exec bash "$(dirname "$0")/torture_crash.sh"
