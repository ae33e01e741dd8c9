# labels: ops
# timeout: 120
# ops_http_endpoints.sh - the running agent's /metrics, /healthz, /status and / agree with
# what it shipped, and show an output that cannot write as "retrying" with the unshipped
# bytes as lag (nothing committed), then the catch-up after the fault is gone.
set -u
. "$(dirname "$0")/lib.sh"
lf_setup
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
get() { curl -s --noproxy '*' -m 5 -o "$T/body" -w '%{http_code}' "$URL$1"; }
metric() { curl -s --noproxy '*' -m 5 "$URL/metrics" | awk -v k="$1" '$1 == k {print $2}'; }

cat >"$T/agent.conf" <<EOF
[agent]
data_dir = $T/data
http_listen = 127.0.0.1:$PORT
registry_flush = 100ms
[input app]
paths = $T/logs/*.log
[output file main]
path = $T/out/events.ndjson
EOF
gen_lines "$T/logs/app.log" 1 2000
start_agent "$T/agent.conf"
wait_for "[ \"\$(metric logferry_output_events_acked_total'{output=\"main\",type=\"file\"}')\" = 2000 ]" 20 \
    || fail "acked counter never reached 2000 (got $(metric 'logferry_output_events_acked_total{output="main",type="file"}'))"
seq_check "$T/out/events.ndjson" 1 2000 || fail "output is missing lines"
SIZE=$(stat -c %s "$T/logs/app.log")

[ "$(metric logferry_lines_read_total)" = 2000 ] || fail "lines_read_total is not 2000"
[ "$(metric logferry_events_total)" = 2000 ] || fail "events_total is not 2000"
[ "$(metric logferry_files_open)" = 1 ] || fail "files_open is not 1"
[ "$(metric logferry_bytes_read_total)" = "$SIZE" ] || fail "bytes_read_total is not the file size"
wait_for "[ \"\$(metric 'logferry_input_lag_bytes{input=\"app\"}')\" = 0 ]" 10 || fail "lag never reached 0"
wait_for "[ \"\$(metric logferry_registry_writes_total)\" -ge 1 ]" 10 || fail "no registry write counted"
[ "$(metric 'logferry_output_state{output="main",type="file",state="ok"}')" = 1 ] || fail "output state is not ok"

if command -v promtool >/dev/null; then # Debian package prometheus: the reference parser and linter
    curl -s --noproxy '*' -m 5 "$URL/metrics" | promtool check metrics >"$T/promtool.txt" 2>&1 \
        || { cat "$T/promtool.txt"; fail "promtool check metrics rejects /metrics"; }
fi
[ "$(get /healthz)" = 200 ] || fail "/healthz is not 200: $(cat "$T/body")"
grep -q '^ok: 1 output(s) healthy$' "$T/body" || fail "/healthz body: $(cat "$T/body")"
[ "$(get /status)" = 200 ] || fail "/status is not 200"
python3 - "$T/body" "$T/logs/app.log" "$SIZE" <<'PY' || fail "/status disagrees with the file"
import json, sys
st = json.load(open(sys.argv[1]))
f = [x for x in st["files"] if x["path"].endswith("/logs/app.log")]
assert len(f) == 1, st["files"]
f = f[0]
assert f["size"] == int(sys.argv[3]) and f["committed_offset"] == f["size"] and f["lag_bytes"] == 0, f
assert st["outputs"][0]["name"] == "main" and st["outputs"][0]["state"] == "ok", st["outputs"]
assert st["outputs"][0]["events_acked"] == 2000
PY
[ "$(get /)" = 200 ] || fail "/ is not 200"
grep -q 'app.log' "$T/body" && grep -q '<td>main</td>' "$T/body" || fail "status page lacks the file or the output"
[ "$(get /nothing)" = 404 ] || fail "unknown path is not 404"
code=$(curl -s --noproxy '*' -m 5 -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$URL/status")
[ "$code" = 421 ] || fail "a foreign Host header got $code, not 421"
stop_agent

# The output cannot write (its file system is full: a 1 MiB tmpfs, root only): lines are read
# but not acknowledged, so they show as lag and the output as retrying.
if [ "$(id -u)" != 0 ]; then echo "PASS (first part; the output-fault part needs root for a tmpfs)"; exit 0; fi
mv "$T/out/events.ndjson" "$T/first.ndjson"
mount -t tmpfs -o size=1m lftest "$T/out" || fail "cannot mount a tmpfs"
trap 'umount -l "$T/out" 2>/dev/null; lf_cleanup' EXIT
head -c 1040000 /dev/zero >"$T/out/filler" # leaves less than a batch
start_agent "$T/agent.conf"
gen_lines "$T/logs/app.log" 2001 2500
wait_for "[ \"\$(metric 'logferry_output_state{output=\"main\",type=\"file\",state=\"retrying\"}')\" = 1 ]" 20 \
    || fail "output never reported retrying"
LAG=$(( $(stat -c %s "$T/logs/app.log") - SIZE ))
wait_for "[ \"\$(metric 'logferry_input_lag_bytes{input=\"app\"}')\" = $LAG ]" 10 \
    || fail "lag is $(metric 'logferry_input_lag_bytes{input="app"}'), expected $LAG unshipped bytes"
[ "$(get /healthz)" = 200 ] || fail "/healthz should tolerate a retrying output within its budget"
grep -q 'main retrying for' "$T/body" || fail "/healthz does not say main is retrying: $(cat "$T/body")"
[ "$(get /)" = 200 ] && grep -q 'class="st retrying"' "$T/body" || fail "page does not show retrying"
[ "$(get /status)" = 200 ] && grep -q 'No space left on device' "$T/body" || fail "/status lacks the last error"

# Fault gone: the output catches up, lag returns to 0.
rm "$T/out/filler"
wait_for "[ \"\$(metric 'logferry_input_lag_bytes{input=\"app\"}')\" = 0 ]" 30 || fail "lag never returned to 0"
[ "$(metric 'logferry_output_state{output="main",type="file",state="ok"}')" = 1 ] || fail "output not ok again"
stop_agent
cat "$T/first.ndjson" "$T/out/events.ndjson" >"$T/all.ndjson"
seq_check "$T/all.ndjson" 1 2500 || fail "lines lost or duplicated across the output fault"
echo "PASS"
