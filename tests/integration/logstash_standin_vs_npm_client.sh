#!/bin/bash
# labels: logstash
# timeout: 60
#   standin_reads_an_independent_client: the npm package lumberjack-client (another author's
#     Lumberjack v2 client: window frame, compressed frame of J frames, over TCP and TLS)
#     sends numbered events to tests/tools/lj_standin; every number is stored exactly once
#     and the stand-in reports no protocol error. Skipped (77) unless LJ_NPM_DIR names a
#     directory where `npm install lumberjack-client` was run (the test never downloads).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
[ -n "${LJ_NPM_DIR:-}" ] && [ -d "$LJ_NPM_DIR/node_modules/lumberjack-client" ] && command -v node >/dev/null ||
    { echo "SKIP: set LJ_NPM_DIR to a directory with node_modules/lumberjack-client"; exit 77; }
lf_setup
export NODE_PATH=$LJ_NPM_DIR/node_modules
lj_start plain
node "$SRC_DIR/tests/tools/lj_npm_client.js" "$LJ_PORT_plain" 1 400 || fail "the npm client failed"
wait_for '[ $(lj_count plain) -ge 400 ]' 10 || fail "plain: only $(lj_count plain) of 400"
seq_check "$T/lj/plain.ndjson" 1 400 --tag npm || fail "plain: not exactly once"
[ "$(lj_stat plain errors)" = 0 ] || fail "plain: protocol errors: $(cat "$T/lj/plain.log")"
echo "plain: $(lj_stat plain windows) windows, $(lj_stat plain compressed) compressed frames"
lj_certs
lj_start tls --tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key"
node "$SRC_DIR/tests/tools/lj_npm_client.js" "$LJ_PORT_tls" 1 400 "$T/pki/ca.pem" || fail "the npm client failed over TLS"
wait_for '[ $(lj_count tls) -ge 400 ]' 10 || fail "TLS: only $(lj_count tls) of 400"
seq_check "$T/lj/tls.ndjson" 1 400 --tag npm || fail "TLS: not exactly once"
[ "$(lj_stat tls errors)" = 0 ] || fail "TLS: protocol errors: $(cat "$T/lj/tls.log")"
echo "PASS logstash_standin_vs_npm_client"
