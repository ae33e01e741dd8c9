#!/bin/bash
# labels: migrate
# timeout: 120
# `logferry migrate filebeat` on real filebeat.yml files from Filebeat's repository
# (tests/data/filebeat-config, see SOURCE.md) and on ones written for every branch: the exit
# status says whether the conversion is complete, every converted agent.conf passes
# `logferry check`, what cannot be carried over is listed with its line (in the file and on
# stderr), errors (bad YAML, conflicting options) name the line and write nothing, secrets
# never reach stderr, and the nginx module's input parses the module's own test lines into
# the fields Filebeat's module gives.
. "$(dirname "$0")/lib.sh"
lf_setup
D="$SRC_DIR/tests/data/filebeat-config"
mkdir -p "$T/logs/app" "$T/logs/legacy" "$T/logs/nginx" "$T/take-over" "$T/home"

# migrate NAME: renders LOGS/TESTDATA/HOME/OUT, converts, leaves $RC, $T/NAME.conf, $T/NAME.err
migrate() {
    sed -e "s|LOGS|$T/logs|g" -e "s|TESTDATA|$T|g" -e "s|HOME|$T/home|g" -e "s|OUT|$T/out|g" \
        "$D/$1.yml" >"$T/$1.yml"
    [ -d "$D/modules.d" ] && cp -r "$D/modules.d" "$T/"
    RC=0
    "$LOGFERRY" migrate filebeat -c "$T/$1.yml" --data-dir "$T/data-$1" -o "$T/$1.conf" \
        2>"$T/$1.err" || RC=$?
}
check_ok() {
    "$LOGFERRY" check -c "$T/$1.conf" >"$T/$1.check" 2>&1 || { cat "$T/$1.check"; fail "$1: logferry check refused the converted file"; }
}
has() { grep -qF -- "$2" "$T/$1.conf" || { cat "$T/$1.conf"; fail "$1: expected '$2' in agent.conf"; }; }
err_has() { grep -qF -- "$2" "$T/$1.err" || { cat "$T/$1.err"; fail "$1: expected '$2' on stderr"; }; }

# Real: Filebeat's take-over integration test configurations (filestream with fingerprint
# identity; the deprecated log input).
for n in take-over-happy-path take-over-log-input; do
    migrate $n
    [ "$RC" = 0 ] || { cat "$T/$n.err"; fail "$n: exit status $RC, expected 0 (complete)"; }
    check_ok $n
done
has take-over-happy-path "[input first-id]"
has take-over-happy-path "path = $T/home/output-file"
has take-over-log-input "paths = $T/take-over/*.txt"

# Real: Filebeat 5.x's packaged filebeat.yml (prospectors, input_type), the Docker image's
# filebeat.docker.yml (modules.d, autodiscover, processors, ${VAR:default}), two filestream /
# container test configurations.
migrate filebeat-5x
[ "$RC" = 0 ] || { cat "$T/filebeat-5x.err"; fail "filebeat-5x: exit status $RC, expected 0"; }
check_ok filebeat-5x
has filebeat-5x "paths = /var/log/*.log"
has filebeat-5x "hosts = http://localhost:9200"
migrate filebeat-docker
[ "$RC" = 3 ] || fail "filebeat-docker: exit status $RC, expected 3"
check_ok filebeat-docker
err_has filebeat-docker "filebeat-docker.yml:6: not carried over: filebeat.autodiscover"
err_has filebeat-docker "filebeat-docker.yml:12: not carried over: processor add_cloud_metadata"
err_has filebeat-docker "filebeat-docker.yml:15: not carried over: processor rename"
has filebeat-docker 'hosts = http://${ELASTICSEARCH_HOSTS:-elasticsearch:9200}'
has filebeat-docker 'password = ${ELASTICSEARCH_PASSWORD:-}'
has filebeat-docker "[input nginx-access]"
migrate delete-real-es
[ "$RC" = 3 ] || fail "delete-real-es: exit status $RC, expected 3"
check_ok delete-real-es
err_has delete-real-es "delete-real-es.yml:4: not carried over: filebeat.inputs[0].index"
err_has delete-real-es "delete-real-es.yml:8: not carried over: filebeat.inputs[0].delete"
has delete-real-es "backoff_max = 100ms"
migrate run-as-container
[ "$RC" = 3 ] || fail "run-as-container: exit status $RC, expected 3 (features)"
check_ok run-as-container
has run-as-container "format = auto"
has run-as-container "path = /usr/share/filebeat/output-file"

# Real: the nginx and apache module files, loaded through filebeat.config.modules.
migrate modules
[ "$RC" = 3 ] || { cat "$T/modules.err"; fail "modules: exit status $RC, expected 3 (error filesets have no parser)"; }
check_ok modules
has modules "[input nginx-access]"
has modules "paths = /var/log/nginx/access.log*"
has modules "parser = nginx_combined"
has modules "[input apache-access]"
err_has modules "modules.d/apache.yml:19: module apache, fileset ssl_request: not supported"
err_has modules "modules.d/apache.yml:12: module apache, fileset error: no built-in parser"
err_has modules "modules.d/nginx.yml:12: module nginx, fileset error: no built-in parser"
grep -q "ingress_controller" "$T/modules.err" && fail "modules: a disabled fileset was reported"
# the module's own test lines give the module's fields
"$LOGFERRY" parse -c "$T/modules.conf" --input nginx-access \
    <"$SRC_DIR/tests/data/filebeat-nginx/test.log" >"$T/parsed.ndjson" || fail "parse failed"
python3 - "$T/parsed.ndjson" "$SRC_DIR/tests/data/filebeat-nginx/test.log-expected.ndjson" <<'PY' || fail "module fields differ"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
exp = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == len(exp), (len(got), len(exp))
def get(ev, dotted):
    cur = ev
    for p in dotted.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return ev.get(dotted)
        cur = cur[p]
    return cur
bad = 0
for i, (g, e) in enumerate(zip(got, exp)):
    for k, v in e.items():
        if k == "log.offset":
            continue  # parse reads stdin, not the file
        if get(g, k) != v:
            print(f"line {i+1}: {k}: got {get(g, k)!r}, Filebeat {v!r}"); bad += 1
    if get(g, "event.dataset") != "nginx.access" or get(g, "event.module") != "nginx":
        print(f"line {i+1}: event.dataset/module missing"); bad += 1
sys.exit(1 if bad else 0)
PY

# Written for every branch we carry over.
migrate every-branch
[ "$RC" = 0 ] || { cat "$T/every-branch.err"; fail "every-branch: exit status $RC, expected 0"; }
check_ok every-branch
for want in "name = was-1" "log_level = warn" "http_listen = 127.0.0.1:5067" \
    "exclude = *.gz" "max_line_bytes = 65536" "close_inactive = 90s" \
    'multiline.pattern = ^\[' "multiline.max_lines = 200" "multiline.timeout = 5s" \
    'include_lines = ^ERR, ^WARN{1,2}, a\,b' "exclude_lines = ^DBG" "fields.service = shop" \
    "fields.fields.env = prod" "fields.project.name = myproject" "start_at = end" \
    "fields.fields.team = payments" "hosts = https://es1:9200, https://es2:9200" \
    'password = ${ES_PASSWORD:-changeme}' "index = weblogs-%Y.%m.%d" "tls_verify = false" \
    "compression = gzip" "workers = 4" "bulk_max_events = 1000" \
    'when = not ((http.response.status_code == 200) or (url.path =~ "^/health") or (message =~ "kube-probe"))'; do
    has every-branch "$want"
done
grep -q "nowhere" "$T/every-branch.conf" && fail "a disabled input was converted"

# Container inputs and the Logstash output.
migrate container-logstash
[ "$RC" = 0 ] || { cat "$T/container-logstash.err"; fail "container-logstash: exit status $RC"; }
# `check` accepts every key; its only complaints are the TLS files, which it reads and which
# exist only on the user's machine (/etc/pki/...).
"$LOGFERRY" check -c "$T/container-logstash.conf" >"$T/container-logstash.check" 2>&1 \
    && fail "container-logstash: check passed without the TLS files"
grep -F "$T/container-logstash.conf:" "$T/container-logstash.check" | grep -v "problems found" \
    | grep -v ": cannot read /etc/pki/" && { cat "$T/container-logstash.check"; fail "container-logstash: check refused more than the missing TLS files"; }
[ "$(grep -c 'cannot read /etc/pki/' "$T/container-logstash.check")" -ge 2 ] \
    || { cat "$T/container-logstash.check"; fail "container-logstash: the TLS files were not read"; }
for want in "format = cri" "format = docker" "hosts = ls1:5044, ls2:5044" "loadbalance = true" \
    "compression_level = 3" "window = 2048" "timeout = 30s" "ca_file = /etc/pki/ca.pem" \
    "cert_file = /etc/pki/client.pem" "key_file = /etc/pki/client.key" \
    "ssl_verify = certificate" "beat_name = myapp"; do
    has container-logstash "$want"
done

# What cannot be carried over: listed with the line, in the file and on stderr; exit 3.
migrate not-carried
[ "$RC" = 3 ] || fail "not-carried: exit status $RC, expected 3"
check_ok not-carried
for want in "not-carried.yml:3: not carried over: filebeat.inputs[0]: input type 'udp'" \
    "not-carried.yml:7: not carried over: filebeat.inputs[1].ignore_older" \
    "not-carried.yml:8: not carried over: tags" \
    "not-carried.yml:9: not carried over: exclude_files" \
    "not-carried.yml:13: not carried over: required_acks 1"; do
    err_has not-carried "$want"
    has not-carried "# $T/$want"
done
grep -q "INCOMPLETE: 5 settings" "$T/not-carried.conf" || fail "not-carried: no INCOMPLETE header"
grep -q "s3cr3t-do-not-print" "$T/not-carried.err" && fail "a password reached stderr"

# Errors: the line, nothing written, exit 1.
migrate bad-yaml
[ "$RC" = 1 ] || fail "bad-yaml: exit status $RC, expected 1"
err_has bad-yaml "bad-yaml.yml:4:"
[ -e "$T/bad-yaml.conf" ] && fail "bad-yaml: a file was written"
migrate conflicting
[ "$RC" = 1 ] || fail "conflicting: exit status $RC, expected 1"
err_has conflicting "conflicting.yml:6: error: multiline is configured twice"
err_has conflicting "conflicting.yml:11: error: output.kafka: a second enabled output (the first is on line 8)"
[ -e "$T/conflicting.conf" ] && fail "conflicting: a file was written"
migrate duplicate-key
[ "$RC" = 1 ] || fail "duplicate-key: exit status $RC, expected 1"
err_has duplicate-key "duplicate-key.yml:4: 'path' is already set on line 1"
# Filebeat's container-input registry (two streams of one file: two entries, offsets 8900 and
# 8990), re-pointed at a file of ours: it resumes at the lower offset, so nothing is skipped.
mkdir -p "$T/containers" "$T/cstore"
python3 -c "import sys; sys.stdout.write(''.join(f'{{\"log\":\"c {i}\\\\n\",\"stream\":\"stdout\"}}\\n' for i in range(1, 400)))" \
    >"$T/containers/app.log"
CID="$(stat -c %i "$T/containers/app.log")-$(stat -c %d "$T/containers/app.log")"
sed -e "s|13643776-64768|$CID|g" -e "s|/home/elastic/beats/filebeat/contaner-log-file.log|$T/containers/app.log|g" \
    "$SRC_DIR/tests/data/filebeat-registry/container-store/log.json" >"$T/cstore/log.json"
cp "$SRC_DIR/tests/data/filebeat-registry/container-store/meta.json" "$T/cstore/"
printf 'filebeat.inputs:\n- type: container\n  paths: [%s/containers/*.log]\noutput.file.path: %s/out\n' "$T" "$T" >"$T/c.yml"
"$LOGFERRY" migrate filebeat -c "$T/c.yml" --registry "$T/cstore" --data-dir "$T/cdata" \
    -o "$T/c.conf" 2>"$T/c.err" || { cat "$T/c.err"; fail "container registry conversion failed"; }
grep -q "several Filebeat entries (offsets 8900 and 8990)" "$T/c.err" || { cat "$T/c.err"; fail "two streams not reported"; }
grep -q "app.log: resumes at byte 8900 of" "$T/c.err" || { cat "$T/c.err"; fail "not resumed at the lower offset"; }
python3 - "$T/cdata/registry.json" 8900 <<'PY' || fail "registry.json does not hold offset 8900"
import json, sys
files = json.load(open(sys.argv[1]))["files"]
assert len(files) == 1 and files[0]["offset"] == int(sys.argv[2]), files
PY
# Filebeat 6.x-7.8 kept its registry as one data.json array (source, offset, FileStateOS).
mkdir -p "$T/old"
OID=$(stat -c %i "$T/containers/app.log"); ODEV=$(stat -c %d "$T/containers/app.log")
printf '[{"source":"%s","offset":1234,"timestamp":"2020-01-01T00:00:00Z","ttl":-1,"type":"log","meta":null,"FileStateOS":{"inode":%s,"device":%s}}]\n' \
    "$T/containers/app.log" "$OID" "$ODEV" >"$T/old/data.json"
"$LOGFERRY" migrate filebeat -c "$T/c.yml" --registry "$T/old" --data-dir "$T/olddata" \
    -o "$T/old.conf" 2>"$T/old.err" || { cat "$T/old.err"; fail "data.json conversion failed"; }
grep -q "app.log: resumes at byte 1234 of" "$T/old.err" || { cat "$T/old.err"; fail "data.json offset not carried over"; }
echo "PASS"
