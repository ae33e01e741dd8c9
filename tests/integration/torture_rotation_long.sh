#!/usr/bin/env bash
# labels: torture;torture-long
# timeout: 2400
# torture_rotation_long: torture_rotation (rename, then copytruncate, every 200 ms) for
# TORTURE_SECONDS (default 120) per phase. Excluded from the normal run with
# `ctest -LE torture-long`; CI runs it with TORTURE_SECONDS=300 ctest -L torture-long.
export TORTURE_SECONDS=${TORTURE_SECONDS:-120}
exec bash "$(dirname "$0")/torture_rotation.sh"
