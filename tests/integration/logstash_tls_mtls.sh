#!/bin/bash
# labels: logstash
# timeout: 120
# Certificates are made here with openssl (tests/tools/lj_lib.sh: lj_certs).
#   tls_verified_delivers_exactly_once: TLS with the CA, certificate and name verified.
#   mtls_client_certificate_required: a server demanding a client certificate refuses the
#     agent without one (test-output says so) and takes everything with one.
#   tls_refusals_name_reason_and_host: test-output FAILS, naming the host and OpenSSL's
#     reason, for a wrong CA, a name mismatch (accepted with ssl_verify = certificate) and an
#     expired server certificate; `check` refuses an expired client certificate and a
#     missing CA file; ssl_verify = none is warned about at start.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
# host name verification needs a name: a bare chroot (debootstrap) has no /etc/hosts
getent hosts localhost >/dev/null || { echo "SKIP: localhost does not resolve here"; exit 77; }
lj_certs
P=$T/pki
tls="ca_file = $P/ca.pem"

lj_start good --tls-cert "$P/server.pem" --tls-key "$P/server.key"
lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_good" "$tls"
"$LOGFERRY" test-output -c "$T/agent.conf" >"$T/to.txt" 2>&1 || { cat "$T/to.txt"; fail "test-output failed on a good TLS server"; }
grep -q "answers (TLS, certificate and host name verified)" "$T/to.txt" || { cat "$T/to.txt"; fail "test-output did not say TLS was verified"; }
gen_lines "$T/logs/app.log" 1 3000
start_agent "$T/agent.conf"
wait_for '[ $(lj_count good) -ge 3000 ]' 30 || fail "TLS: only $(lj_count good) of 3000"
stop_agent
seq_check "$T/lj/good.ndjson" 1 3000 || fail "TLS: not exactly once"

# mTLS
lj_start mtls --tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-client-ca "$P/ca.pem"
lj_conf "$T/nocert.conf" "localhost:$LJ_PORT_mtls" "$tls"
if "$LOGFERRY" test-output -c "$T/nocert.conf" >"$T/to.txt" 2>&1; then
    cat "$T/to.txt"; fail "a server requiring a client certificate accepted none"
fi
cat "$T/to.txt"
grep -q "localhost:$LJ_PORT_mtls" "$T/to.txt" || fail "the refusal does not name the host"
rm -rf "$T/data"/*
lj_conf "$T/agent.conf" "localhost:$LJ_PORT_mtls" "$tls" "cert_file = $P/client.pem" "key_file = $P/client.key"
"$LOGFERRY" test-output -c "$T/agent.conf" >"$T/to.txt" 2>&1 || { cat "$T/to.txt"; fail "mTLS test-output failed"; }
start_agent "$T/agent.conf"
wait_for '[ $(lj_count mtls) -ge 3000 ]' 30 || fail "mTLS: only $(lj_count mtls) of 3000"
stop_agent
seq_check "$T/lj/mtls.ndjson" 1 3000 || fail "mTLS: not exactly once"

# refusals, each naming the host and the reason
expect_refusal() { # conf-lines... -- pattern
    local pat=$1; shift
    lj_conf "$T/bad.conf" "$@"
    if "$LOGFERRY" test-output -c "$T/bad.conf" >"$T/to.txt" 2>&1; then
        cat "$T/to.txt"; fail "test-output accepted: $*"
    fi
    cat "$T/to.txt"
    grep -q "$pat" "$T/to.txt" || fail "the refusal does not say '$pat'"
}
expect_refusal "127.0.0.1:$LJ_PORT_good: TLS: the server's certificate is refused: unable to get local issuer certificate" \
    "127.0.0.1:$LJ_PORT_good" "ca_file = $P/other-ca.pem"
lj_start wrong --tls-cert "$P/wrong.pem" --tls-key "$P/wrong.key"
expect_refusal "localhost:$LJ_PORT_wrong: TLS: the server's certificate is refused: hostname mismatch" \
    "localhost:$LJ_PORT_wrong" "$tls"
expect_refusal "127.0.0.1:$LJ_PORT_wrong: TLS: the server's certificate is refused: IP address mismatch" \
    "127.0.0.1:$LJ_PORT_wrong" "$tls"
lj_conf "$T/nocheck.conf" "localhost:$LJ_PORT_wrong" "$tls" "ssl_verify = certificate"
"$LOGFERRY" test-output -c "$T/nocheck.conf" >"$T/to.txt" 2>&1 || { cat "$T/to.txt"; fail "ssl_verify = certificate still checked the name"; }
lj_start expired --tls-cert "$P/expired.pem" --tls-key "$P/expired.key"
expect_refusal "127.0.0.1:$LJ_PORT_expired: TLS: the server's certificate is refused: certificate has expired" \
    "127.0.0.1:$LJ_PORT_expired" "$tls"

# check reads the files
lj_conf "$T/c1.conf" "127.0.0.1:1" "$tls" "cert_file = $P/expired.pem" "key_file = $P/expired.key"
if "$LOGFERRY" check -c "$T/c1.conf" >"$T/check.txt" 2>&1; then fail "check accepted an expired client certificate"; fi
cat "$T/check.txt"
grep -q "cert_file $P/expired.pem: the certificate expired" "$T/check.txt" || fail "check does not say the certificate expired"
lj_conf "$T/c2.conf" "127.0.0.1:1" "ca_file = $T/nowhere.pem"
if "$LOGFERRY" check -c "$T/c2.conf" >"$T/check.txt" 2>&1; then fail "check accepted a missing ca_file"; fi
grep -q "ca_file: cannot read $T/nowhere.pem" "$T/check.txt" || { cat "$T/check.txt"; fail "check does not name the missing CA file"; }

# ssl_verify = none: loud warning at start
lj_conf "$T/none.conf" "127.0.0.1:$LJ_PORT_wrong" "$tls" "ssl_verify = none"
: >"$T/agent.log"
start_agent "$T/none.conf"
wait_for "grep -q 'ssl_verify = none' $T/agent.log" 10 || fail "ssl_verify = none was not warned about"
stop_agent
echo "PASS logstash_tls_mtls"
